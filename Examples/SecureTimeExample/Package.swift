// swift-tools-version:6.1
// An app that uses the Pendulum library by path, as an app of yours would use it by URL:
// `.package(url: "https://github.com/…/pendulum-swift", from: "…")`.
import PackageDescription

let package = Package(
    name: "SecureTimeExample",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Pendulum", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "SecureTimeExample",
            dependencies: [.product(name: "Pendulum", package: "Pendulum")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
