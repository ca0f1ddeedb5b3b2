// swift-tools-version:6.2
import PackageDescription

// Our own targets treat warnings as errors; dependencies are left alone.
let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Logbook",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "logbook", targets: ["LogbookCLI"]),
        .executable(name: "CoreBenchmark", targets: ["CoreBenchmark"]),
        .executable(name: "ProjectionBenchmark", targets: ["ProjectionBenchmark"]),
        .library(name: "LogbookCore", targets: ["LogbookCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // `logbook load`: a small keep-alive HTTP/1.1 client on NIO (already built for Hummingbird)
        // instead of async-http-client, and HdrHistogram for latency percentiles.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // C boundary: one system-library target per Debian package; only its wrapper imports it.
        .systemLibrary(name: "CLogbookLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CLogbookZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLogbookCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        .target(name: "LogbookLMDB", dependencies: ["CLogbookLMDB"], swiftSettings: strict),
        .target(name: "LogbookZstd", dependencies: ["CLogbookZstd"], swiftSettings: strict),
        .target(name: "LogbookCrypto", dependencies: ["CLogbookCrypto"], swiftSettings: strict),
        .target(name: "LogbookJSON", swiftSettings: strict),

        // The C-free engine: events, codec, blocks, tenant logs, group commit.
        .target(
            name: "LogbookCore",
            dependencies: [
                "LogbookLMDB", "LogbookZstd", "LogbookCrypto", "LogbookJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),

        // The HTTP server: buildApplication(...) for tests, run by `logbook serve`.
        .target(
            name: "LogbookServer",
            dependencies: [
                "LogbookCore", "LogbookJSON", "LogbookCrypto", "LogbookLMDB",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "LogbookCLI",
            dependencies: [
                "LogbookCore", "LogbookJSON", "LogbookServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "ProjectionBenchmark",
            dependencies: ["LogbookCore", "LogbookJSON"],
            path: "Benchmarks/ProjectionBenchmark",
            swiftSettings: strict
        ),

        .executableTarget(
            name: "CoreBenchmark",
            dependencies: ["LogbookCore", "LogbookJSON"],
            path: "Benchmarks/CoreBenchmark",
            swiftSettings: strict
        ),

        .target(
            name: "LogbookTestSupport", dependencies: ["LogbookCore"], path: "Tests/LogbookTestSupport",
            swiftSettings: strict),
        .testTarget(
            name: "LogbookJSONTests", dependencies: ["LogbookJSON", "LogbookTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LogbookCoreTests",
            dependencies: [
                "LogbookCore", "LogbookJSON", "LogbookTestSupport", "LogbookLMDB", "LogbookCrypto", "LogbookZstd",
                "CLogbookZstd",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LogbookCLITests", dependencies: ["LogbookCore", "LogbookTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LogbookServerTests",
            dependencies: [
                "LogbookServer", "LogbookCore", "LogbookJSON", "LogbookTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
    ]
)
