import Testing

/// All suites that run pendulum-ntpd (and chronyd) as child processes, one test at a time: on
/// a two-core machine, several daemons at once starve the timing-sensitive suites running
/// beside them.
@Suite(.serialized) enum NTPDaemonInteropTests {}
