// swift-tools-version:6.1
// Pendulum: NTP, NTS and PTP for Linux. The layers follow DESIGN.md: protocol cores take
// bytes and timestamps and return decisions; only PendulumIO and the executables touch the OS.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Pendulum",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pendulum", targets: ["pendulum"]),
        .library(name: "PendulumTime", targets: ["PendulumTime"]),
        .library(name: "PendulumNTP", targets: ["PendulumNTP"]),
        .library(name: "PendulumDiscipline", targets: ["PendulumDiscipline"]),
        .library(name: "PendulumSimulation", targets: ["PendulumSimulation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Time types: NTP/Unix timestamps, durations. No dependencies.
        .target(name: "PendulumTime", swiftSettings: swiftSettings),
        // NTP core: wire codec and client/server decisions, no I/O.
        .target(name: "PendulumNTP", dependencies: ["PendulumTime"], swiftSettings: swiftSettings),
        // Clock discipline: per-source Kalman filters, selection, steering decisions. No I/O.
        .target(name: "PendulumDiscipline", dependencies: ["PendulumTime"], swiftSettings: swiftSettings),
        // Seeded, deterministic network and oscillator models driving the discipline in virtual time.
        .target(
            name: "PendulumSimulation", dependencies: ["PendulumTime", "PendulumDiscipline"],
            swiftSettings: swiftSettings
        ),
        // The `pendulum` command's subcommands, in a library so tests can drive them.
        .target(
            name: "PendulumCommands",
            dependencies: [
                "PendulumTime", "PendulumNTP", "PendulumDiscipline", "PendulumSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "pendulum", dependencies: ["PendulumCommands"], swiftSettings: swiftSettings),

        .testTarget(name: "PendulumTimeTests", dependencies: ["PendulumTime"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PendulumDisciplineTests", dependencies: ["PendulumDiscipline", "PendulumTime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PendulumSimulationTests",
            dependencies: ["PendulumSimulation", "PendulumDiscipline", "PendulumTime"],
            swiftSettings: swiftSettings
        ),
    ]
)
