// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

/// The data plane's hot path: no dynamic exclusivity checks in release builds, where they cost about 2% of the
/// proxy's CPU per request (see docs/performance.md); debug builds and the tests keep them.
let dataPlane: [SwiftSetting] =
    strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "slipway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slipway", targets: ["slipway"]),
        .executable(name: "slipway-demo-app", targets: ["slipway-demo-app"]),
        .executable(name: "slipway-supervisor", targets: ["slipway-supervisor"]),
        .executable(name: "slipway-dataplane", targets: ["slipway-dataplane"]),
        .executable(name: "slipway-analysis-bench", targets: ["slipway-analysis-bench"]),
        .library(name: "SlipwayServer", targets: ["SlipwayServer"]),
        // The data plane's HTTP/1.1 front end on its own, for the fuzzer's package (fuzz/).
        .library(name: "SlipwayHTTP1", targets: ["SlipwayHTTP1"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // Vocabulary shared by every module: events, identifiers.
        .target(name: "SlipwayCore", swiftSettings: strict),
        // slipway.yaml -> validated, typed specs.
        .target(
            name: "SlipwayConfig",
            dependencies: ["SlipwayCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Pure, clock-injected state machines.
        .target(name: "SlipwayEngine", dependencies: ["SlipwayCore", "SlipwayConfig"], swiftSettings: strict),
        // What the per-instance supervisor and the platform share: log files, records, paths. Glibc only.
        .target(name: "SlipwaySupervision", swiftSettings: strict),
        // Owns one instance's output, logs and exit status; outlives the controller that started it.
        .executableTarget(name: "slipway-supervisor", dependencies: ["SlipwaySupervision"], swiftSettings: strict),
        // Running instances: the Platform protocol and local processes.
        .target(
            name: "SlipwayPlatform",
            dependencies: [
                "SlipwayCore", "SlipwayConfig", "SlipwaySupervision",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // HTTP/1.1 heads parsed in place and forwarded as bytes with the proxy's edits; body framing.
        .target(
            name: "SlipwayHTTP1",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: dataPlane
        ),
        // The data plane: SwiftNIO reverse proxy, route table, traffic metrics.
        .target(
            name: "SlipwayProxy",
            dependencies: [
                "SlipwayCore", "SlipwaySupervision", "SlipwayHTTP1",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: dataPlane
        ),
        // The data plane's own process: listeners and routes that outlive the controller. Links only the proxy.
        .executableTarget(
            name: "slipway-dataplane",
            dependencies: [
                "SlipwayProxy", "SlipwayCore", .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Kubernetes: the API client (server-side apply, lists and watches) and the platform that runs releases there.
        .target(
            name: "SlipwayKubernetes",
            dependencies: [
                "SlipwayCore", "SlipwayConfig", "SlipwayPlatform",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // The SQLite event log and its projections.
        .target(
            name: "SlipwayStore",
            dependencies: ["SlipwayCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        // The controller: executor of the engine's actions.
        .target(
            name: "SlipwayServer",
            dependencies: [
                "SlipwayCore", "SlipwayConfig", "SlipwayEngine", "SlipwayPlatform", "SlipwayStore", "SlipwayProxy",
                "SlipwayKubernetes",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strict
        ),
        // The demo HTTP service used by `slipway demo`, the examples and the tests.
        .target(
            name: "SlipwayDemoService",
            dependencies: [
                "SlipwayCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "slipway-demo-app",
            dependencies: [
                "SlipwayDemoService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "slipway",
            dependencies: [
                "SlipwayCore", "SlipwayConfig", "SlipwayServer", "SlipwayStore", "SlipwayProxy", "SlipwayKubernetes",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                // Built alongside so `swift run slipway demo` finds the demo service and the data plane next to itself.
                "slipway-demo-app", "slipway-dataplane",
                // The platform starts every instance through it, from the directory of the running executable.
                "slipway-supervisor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        // Helpers shared by the test targets: built binaries, loopback HTTP, bounded waiting.
        .target(
            name: "SlipwayTestSupport",
            dependencies: ["SlipwayCore"],
            path: "Tests/SlipwayTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "SlipwayConfigTests", dependencies: ["SlipwayConfig", "SlipwayCore"], swiftSettings: strict),
        .target(
            name: "AnalysisSimulation",
            dependencies: ["SlipwayEngine"],
            path: "bench/analysis/Sources/AnalysisSimulation",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "slipway-analysis-bench",
            dependencies: ["AnalysisSimulation", "SlipwayEngine"],
            path: "bench/analysis/Sources/slipway-analysis-bench",
            swiftSettings: strict
        ),
        .testTarget(
            name: "SlipwayEngineTests",
            dependencies: ["SlipwayEngine", "AnalysisSimulation"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SlipwayPlatformTests",
            dependencies: [
                "SlipwayPlatform", "SlipwaySupervision", "SlipwayTestSupport", "slipway-demo-app", "slipway-supervisor",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SlipwayProxyTests",
            dependencies: [
                "SlipwayProxy", "SlipwayHTTP1", "SlipwayTestSupport", "slipway-demo-app",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SlipwayHTTP1Tests",
            dependencies: [
                // The differential test holds the new front end against the old one: llhttp and the proxy's checks.
                "SlipwayHTTP1", "SlipwayProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "SlipwayStoreTests", dependencies: ["SlipwayStore"], swiftSettings: strict),
        .testTarget(
            name: "SlipwayKubernetesTests",
            dependencies: [
                "SlipwayKubernetes", "SlipwayCore", "SlipwayConfig", "SlipwayPlatform", "SlipwayTestSupport",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SlipwayServerTests",
            dependencies: [
                "SlipwayServer", "SlipwayKubernetes", "SlipwayTestSupport", "slipway", "slipway-demo-app",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                // The browser test's DevTools client.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SlipwayDemoServiceTests",
            dependencies: [
                "SlipwayDemoService", "SlipwayTestSupport", "slipway-demo-app",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
    ]
)
