import Prometheus

extension MetricsEndpoint {
    /// pendulum-ptpd's gauges: the servo's view, each port's state and the bad-input counters.
    func addPTPGauges(_ ptp: ObservationSnapshot.PTP) {
        if let offset = ptp.offsetFromMasterSeconds {
            setGauge("pendulum_ptp_offset_from_master_seconds", "Latest offsetFromMaster measured on the slave port", offset)
        }
        if let delay = ptp.meanPathDelaySeconds {
            setGauge("pendulum_ptp_mean_path_delay_seconds", "Latest meanPathDelay (E2E) or link delay (P2P)", delay)
        }
        setGauge("pendulum_ptp_frequency_ppb", "Frequency correction applied to the steered clock", ptp.frequencyPPB)
        setGauge("pendulum_ptp_offset_samples", "Offsets measured since start", Double(ptp.offsetSamples))
        setGauge("pendulum_ptp_steps_removed", "stepsRemoved from the grandmaster", Double(ptp.stepsRemoved))
        for port in ptp.ports {
            setGauge("pendulum_ptp_port_state",
                  "IEEE 1588 portState: 1 INITIALIZING, 2 FAULTY, 3 DISABLED, 4 LISTENING, 5 PRE_MASTER, 6 MASTER, 7 PASSIVE, 8 UNCALIBRATED, 9 SLAVE",
                  Double(port.stateCode), labels: [("interface", port.interface), ("port", String(port.portNumber))])
        }
        let counters = ptp.counters
        for (reason, value) in [
            ("received", counters.received), ("malformed", counters.malformed), ("wrong_domain", counters.wrongDomain),
            ("own_messages", counters.ownMessages), ("impossible_timestamps", counters.impossibleTimestamps),
            ("ignored", counters.ignored), ("missing_transmit_timestamps", counters.missingTransmitTimestamps),
            ("send_errors", counters.sendErrors),
        ] {
            setGauge("pendulum_ptp_messages", "PTP messages received, and those ignored or lost by reason", Double(value),
                  labels: [("class", reason)])
        }
    }
}
