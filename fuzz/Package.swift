// swift-tools-version: 6.2
// The data plane's front end under libFuzzer. Built apart from the main package, with the sanitizers:
//   swift build --package-path fuzz -Xswiftc -sanitize=fuzzer,address
// and run by scripts/fuzz.
import PackageDescription

let package = Package(
    name: "slipway-fuzz",
    dependencies: [
        .package(name: "slipway", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "fuzz-http1",
            dependencies: [
                .product(name: "SlipwayHTTP1", package: "slipway"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
