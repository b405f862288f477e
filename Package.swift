// swift-tools-version:6.1
// Pendulum: NTP, NTS and PTP for Linux. The layers follow DESIGN.md: protocol cores take
// bytes and timestamps and return decisions; only PendulumIO and the shells around the cores
// (NTS-KE transport, sync engine, bench, executables) touch the OS.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Pendulum",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pendulum", targets: ["pendulum"]),
        .executable(name: "pendulum-ntpd", targets: ["pendulum-ntpd"]),
        .executable(name: "pendulum-ptpd", targets: ["pendulum-ptpd"]),
        .library(name: "PendulumTime", targets: ["PendulumTime"]),
        .library(name: "PendulumNTP", targets: ["PendulumNTP"]),
        .library(name: "PendulumNTS", targets: ["PendulumNTS"]),
        .library(name: "PendulumDiscipline", targets: ["PendulumDiscipline"]),
        .library(name: "PendulumNTPClient", targets: ["PendulumNTPClient"]),
        .library(name: "PendulumSimulation", targets: ["PendulumSimulation"]),
        .library(name: "PendulumPTP", targets: ["PendulumPTP"]),
        .library(name: "PendulumBoundedTime", targets: ["PendulumBoundedTime"]),
        // For apps: authenticated time from several servers in one call.
        .library(name: "Pendulum", targets: ["Pendulum"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        // `swift package generate-documentation --target Pendulum`: the library's DocC.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // A total TOML parser for the daemons' configuration files (see TOMLParser.swift for why
        // not TOMLKit). No dependencies.
        .target(name: "PendulumTOML", swiftSettings: swiftSettings),
        // Time types: NTP/Unix/PTP timestamps, durations. No dependencies.
        .target(name: "PendulumTime", swiftSettings: swiftSettings),
        // Big-endian reading and writing of wire bytes, shared by the NTP, NTS and PTP codecs.
        // No dependencies.
        .target(name: "PendulumWire", swiftSettings: swiftSettings),
        // NTP core: wire codec and client/server decisions, no I/O.
        .target(name: "PendulumNTP", dependencies: ["PendulumTime", "PendulumWire"], swiftSettings: swiftSettings),
        // NTS core (RFC 8915): AES-SIV, NTS-KE records, cookies and master keys, NTS extension
        // fields. No I/O: pendulum-ntpd keeps the key file.
        .target(
            name: "PendulumNTS",
            dependencies: [
                "PendulumTime", "PendulumNTP", "PendulumWire", "CPendulumShim",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Clock discipline: per-source Kalman filters, selection, steering decisions. No I/O.
        .target(name: "PendulumDiscipline", dependencies: ["PendulumTime"], swiftSettings: swiftSettings),
        // Seeded, deterministic network and oscillator models driving the discipline in virtual time.
        .target(
            name: "PendulumSimulation", dependencies: ["PendulumTime", "PendulumDiscipline", "PendulumPTP", "PendulumNTPClient", "PendulumNTPServer", "PendulumNTP"],
            swiftSettings: swiftSettings
        ),
        // PTP core: IEEE 1588-2019 messages, datasets, BMCA, port state machine, no I/O.
        .target(name: "PendulumPTP", dependencies: ["PendulumTime", "PendulumWire"], swiftSettings: swiftSettings),

        // Small files a root daemon reads and replaces: no FIFOs, no planted links, atomic writes.
        .target(name: "PendulumFiles", swiftSettings: swiftSettings),
        // Linux shim: what Glibc does not export to Swift (CMSG macros, SO_TIMESTAMPING, timex, mmsg).
        .target(name: "CPendulumShim"),
        // I/O: timestamped and batched sockets, name resolution, clocks.
        .target(name: "PendulumIO", dependencies: ["CPendulumShim", "PendulumTime"], swiftSettings: swiftSettings),
        // Bounded time: the shared-memory segment in which pendulum-ntpd publishes its clock's
        // error bound, and the reader programs use (`BoundedClock`).
        .target(name: "PendulumBoundedTime", dependencies: ["CPendulumShim", "PendulumTime", "PendulumFiles"], swiftSettings: swiftSettings),
        // NTS-KE over TLS 1.3 (swift-nio-ssl): client and server transport around the NTS core.
        .target(
            name: "PendulumNTSKE",
            dependencies: [
                "PendulumNTS", "PendulumNTPServer", "PendulumTime", "PendulumIO", "CPendulumShim",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // Certificate verification when the local clock may be years off (BoringSSL's
                // cannot be told to check validity periods against anything but the clock).
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: swiftSettings
        ),
        // The library for apps: `SecureTime.now(from:)`, NTS-KE and NTP queries to several servers
        // at once, falsetickers voted out, the time with an error bound and its evidence.
        .target(
            name: "Pendulum",
            dependencies: [
                "PendulumTime", "PendulumNTP", "PendulumIO", "PendulumNTS", "PendulumNTSKE", "PendulumBoundedTime",
                "PendulumClientEngine", "PendulumNTPClient", "PendulumDiscipline",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The NTP client core: sources' state machines, selection and discipline. No I/O.
        .target(
            name: "PendulumNTPClient",
            dependencies: [
                "PendulumTime", "PendulumNTP", "PendulumNTS", "PendulumDiscipline",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The client core's event loop: sockets, timers, name lookups and NTS-KE around
        // NTPClientCore, steering one clock. Shared by pendulum-ntpd and the library's
        // DisciplinedClock, so it carries no metrics or observation socket.
        .target(
            name: "PendulumClientEngine",
            dependencies: [
                "PendulumTime", "PendulumNTP", "PendulumIO", "PendulumNTS", "PendulumNTSKE", "PendulumDiscipline", "PendulumNTPClient",
                "PendulumBoundedTime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The daemons' observation: status socket, snapshots, metrics, log format.
        .target(
            name: "PendulumSync",
            dependencies: [
                "PendulumTime", "PendulumNTP", "PendulumIO", "PendulumNTS", "PendulumNTSKE", "PendulumDiscipline", "PendulumNTPClient",
                "PendulumBoundedTime", "PendulumClientEngine",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // NTP server core: response decisions, access lists, rate limiting, NTS. No I/O.
        .target(
            name: "PendulumNTPServer", dependencies: ["PendulumTime", "PendulumNTP", "PendulumNTS", "PendulumWire"],
            swiftSettings: swiftSettings
        ),
        // pendulum-ntpd's TOML configuration, shared with `pendulum validate`.
        .target(
            name: "PendulumDaemonConfig",
            dependencies: ["PendulumIO", "PendulumNTPServer", "PendulumTOML", "PendulumDiscipline", "PendulumFiles", "PendulumNTS"],
            swiftSettings: swiftSettings
        ),
        // pendulum-ntpd: serve loops, NTS-KE service, keyset keeper.
        .target(
            name: "PendulumNTPDaemon",
            dependencies: [
                "PendulumNTPServer", "PendulumDaemonConfig", "PendulumIO", "PendulumNTS", "PendulumNTSKE", "PendulumTime", "CPendulumShim",
                "PendulumSync", "PendulumClientEngine", "PendulumDiscipline", "PendulumNTPClient", "PendulumFiles", "PendulumBoundedTime", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "pendulum-ntpd", dependencies: ["PendulumNTPDaemon"], swiftSettings: swiftSettings),
        // pendulum-ptpd: config, sockets, servo and status around the PTP core.
        .target(
            name: "PendulumPTPDaemon",
            dependencies: [
                "PendulumPTP", "PendulumIO", "PendulumDiscipline", "PendulumTime", "PendulumSync",
                "PendulumTOML", "PendulumClientEngine", "PendulumBoundedTime",
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "pendulum-ptpd", dependencies: ["PendulumPTPDaemon", "PendulumFiles"], swiftSettings: swiftSettings),
        // Load generation for benchmarks (`pendulum bench serve`).
        .target(name: "PendulumBench", dependencies: ["PendulumIO"], swiftSettings: swiftSettings),
        // The `pendulum` command's subcommands, in a library so tests can drive them.
        .target(
            name: "PendulumCommands",
            dependencies: [
                "PendulumTime", "PendulumNTP", "PendulumIO", "PendulumNTS", "PendulumNTSKE",
                "PendulumNTPDaemon", "PendulumNTPServer", "PendulumDiscipline", "PendulumSimulation", "PendulumSync", "PendulumBench", "PendulumDaemonConfig", "PendulumPTP",
                "PendulumBoundedTime", "Pendulum",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "pendulum", dependencies: ["PendulumCommands"], swiftSettings: swiftSettings),

        .testTarget(name: "PendulumTimeTests", dependencies: ["PendulumTime"], swiftSettings: swiftSettings),
        .testTarget(name: "PendulumNTPTests", dependencies: ["PendulumNTP"], swiftSettings: swiftSettings),
        .testTarget(name: "PendulumNTSTests", dependencies: ["PendulumNTS", "PendulumNTP", "PendulumNTSKE", "PendulumNTPServer"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PendulumNTPClientTests",
            dependencies: ["PendulumNTPClient", "PendulumNTPServer", "PendulumNTP", "PendulumNTS", "PendulumDiscipline", "PendulumTime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PendulumIOTests", dependencies: ["PendulumIO"], swiftSettings: swiftSettings),
        .testTarget(name: "PendulumTests", dependencies: ["Pendulum", "PendulumNTP", "PendulumTime", "PendulumIO"], swiftSettings: swiftSettings),
        .testTarget(name: "PendulumBoundedTimeTests", dependencies: ["PendulumBoundedTime", "CPendulumShim"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PendulumDisciplineTests", dependencies: ["PendulumDiscipline", "PendulumTime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PendulumSimulationTests",
            dependencies: ["PendulumSimulation", "PendulumDiscipline", "PendulumTime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PendulumNTPServerTests",
            dependencies: ["PendulumNTPServer", "PendulumNTS", "PendulumNTP", "PendulumTime", "PendulumDaemonConfig", "PendulumDiscipline"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PendulumPTPDaemonTests", dependencies: ["PendulumPTPDaemon", "PendulumPTP", "PendulumSync", "PendulumCommands"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PendulumPTPTests", dependencies: ["PendulumPTP", "PendulumTime"], swiftSettings: swiftSettings),
        .testTarget(name: "PendulumTOMLTests", dependencies: ["PendulumTOML"], swiftSettings: swiftSettings),
        .testTarget(name: "PendulumBenchTests", dependencies: ["PendulumBench"], swiftSettings: swiftSettings),
        .testTarget(name: "PendulumSyncTests", dependencies: ["PendulumSync", "PendulumIO", "PendulumNTS", "PendulumCommands", "PendulumNTPDaemon", "PendulumDiscipline", "PendulumNTPServer", "PendulumNTP", "PendulumTime", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        // Real binaries against real peers (chronyd, NTPsec, tshark) and hostile clients, on loopback.
        .testTarget(
            name: "PendulumInteropTests",
            dependencies: [
                "PendulumIO", "PendulumNTP", "PendulumTime", "PendulumNTSKE", "PendulumSync", "PendulumClientEngine", "PendulumBoundedTime", "Pendulum", "pendulum", "pendulum-ntpd", "pendulum-ptpd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"), "PendulumDiscipline", "PendulumNTPClient",
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
