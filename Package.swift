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
        .target(name: "GeoModel"),
        .target(name: "Formats", dependencies: ["GeoModel", "CZlib"]),
        .target(name: "Tiling", dependencies: ["GeoModel", "CZlib"]),
        .target(name: "Storage", dependencies: ["GeoModel", "CSQLite"]),
        .target(name: "Rendering", dependencies: ["GeoModel", "Tiling", "CZlib"]),
        .target(name: "SystemSupport"),
        .target(name: "API", dependencies: ["GeoModel", "Storage", "Tiling"]),
        .target(name: "Daemon", dependencies: ["API", "GeoModel", "Formats", "Tiling", "Storage", "Rendering", "SystemSupport"]),
        .executableTarget(name: "tiledrop", dependencies: ["Daemon", "GeoModel", "Formats", "Tiling", "Storage", "Rendering", "SystemSupport"]),
        .executableTarget(name: "tiledrop-bench", dependencies: ["GeoModel", "Formats", "Tiling", "Storage", "Daemon"]),
        .testTarget(name: "GeoModelTests", dependencies: ["GeoModel"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "GeoModel"]),
        .testTarget(name: "TilingTests", dependencies: ["Tiling", "GeoModel"], exclude: ["Golden"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "GeoModel", "CSQLite"]),
        .testTarget(name: "RenderingTests", dependencies: ["Rendering", "Tiling", "GeoModel"]),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "API", "Storage", "Tiling", "Rendering", "GeoModel", "SystemSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["tiledrop", "Daemon", "Rendering", "Storage", "Tiling", "GeoModel"]),
    ],
    swiftLanguageModes: [.v6]
)
