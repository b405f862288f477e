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
        .library(name: "PendulumNTS", targets: ["PendulumNTS"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Time types: NTP/Unix timestamps, durations. No dependencies.
        .target(name: "PendulumTime", swiftSettings: swiftSettings),
        // NTP core: wire codec and client/server decisions, no I/O.
        .target(name: "PendulumNTP", dependencies: ["PendulumTime"], swiftSettings: swiftSettings),
        // NTS core (RFC 8915): AES-SIV, NTS-KE records, cookies and master keys, NTS extension
        // fields. Sans-IO except the key file persistence helper.
        .target(
            name: "PendulumNTS",
            dependencies: [
                "PendulumTime", "PendulumNTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // NTS-KE over TLS 1.3 (swift-nio-ssl): the I/O shell around PendulumNTS's sans-IO
        // client and server. Separate so the core builds without NIO.
        .target(
            name: "PendulumNTSKE",
            dependencies: [
                "PendulumNTS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `pendulum` command's subcommands, in a library so tests can drive them.
        .target(
            name: "PendulumCommands",
            dependencies: [
                "PendulumTime", "PendulumNTP", "PendulumNTS", "PendulumNTSKE",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "pendulum", dependencies: ["PendulumCommands"], swiftSettings: swiftSettings),

        .testTarget(name: "PendulumTimeTests", dependencies: ["PendulumTime"], swiftSettings: swiftSettings),
        .testTarget(name: "PendulumNTSTests", dependencies: ["PendulumNTS", "PendulumNTP"], swiftSettings: swiftSettings),
        .testTarget(name: "PendulumNTSKETests", dependencies: ["PendulumNTSKE", "PendulumNTS", "PendulumNTP", "PendulumTime"], swiftSettings: swiftSettings),
    ]
)
