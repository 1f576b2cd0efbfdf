// swift-tools-version:6.0
import PackageDescription

/// tiledrop: drop map files into a folder, get MBTiles vector tilesets.
///
/// No package dependencies by design: only the toolchain and the system's
/// libsqlite3 and zlib through the `CSQLite` and `CZlib` module maps.
/// Module dependencies point one way (see README "How it works").
let package = Package(
    name: "tiledrop",
    products: [
        .executable(name: "tiledrop", targets: ["tiledrop"]),
        .executable(name: "tiledrop-bench", targets: ["tiledrop-bench"]),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .target(name: "GeoModel"),
        .target(name: "Formats", dependencies: ["GeoModel", "CZlib", "SystemSupport"]),
        .target(name: "Tiling", dependencies: ["GeoModel", "CZlib"]),
        .target(name: "Storage", dependencies: ["GeoModel", "CSQLite", "CZlib", "SystemSupport"]),
        .target(name: "Rendering", dependencies: ["GeoModel", "Tiling", "CZlib"]),
        .target(name: "Carto", dependencies: ["GeoModel", "Tiling", "Rendering"]),
        .target(name: "SystemSupport", dependencies: ["CLinux"]),
        .target(name: "HTTP", dependencies: ["SystemSupport"]),
        .target(name: "API", dependencies: ["HTTP", "Storage", "Tiling", "Rendering", "Carto", "GeoModel", "SystemSupport"]),
        .target(name: "Daemon", dependencies: ["API", "HTTP", "GeoModel", "Formats", "Tiling", "Storage", "Rendering", "SystemSupport"]),
        .executableTarget(name: "tiledrop", dependencies: ["Daemon", "API", "GeoModel", "Formats", "Tiling", "Storage", "Rendering", "SystemSupport"]),
        // Fuzz targets (`.ci/fuzz` builds them with libFuzzer); a plain driver in normal builds.
        .executableTarget(name: "tiledrop-fuzz", dependencies: ["GeoModel", "Formats", "Tiling", "Rendering", "Carto"]),
        .executableTarget(name: "tiledrop-bench", dependencies: ["GeoModel", "Formats", "Tiling", "Storage", "Rendering", "API", "Daemon"]),
        .testTarget(name: "GeoModelTests", dependencies: ["GeoModel"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "GeoModel"]),
        .testTarget(name: "TilingTests", dependencies: ["Tiling", "GeoModel"], exclude: ["Golden"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "GeoModel", "CSQLite", "SystemSupport"]),
        .testTarget(name: "CartoTests", dependencies: ["Carto", "Rendering", "Tiling", "GeoModel"]),
        .testTarget(name: "RenderingTests", dependencies: ["Rendering", "Tiling", "GeoModel"]),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "SystemSupport"]),
        .testTarget(name: "APITests", dependencies: ["API", "HTTP", "GeoModel", "SystemSupport"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "API", "HTTP", "Storage", "Tiling", "Rendering", "GeoModel", "SystemSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["tiledrop", "Daemon", "API", "Rendering", "Storage", "Tiling", "GeoModel"], exclude: ["Mapnik"]),
    ],
    swiftLanguageModes: [.v6]
)
