import Glibc

// tiledrop-bench SUBCOMMAND: benchmark programs (not tests); each prints its figures.
let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "convert": exit(ConvertBenchmark.main(Array(args.dropFirst())))
case "convert-run": exit(ConvertBenchmark.run(Array(args.dropFirst())))
case "tiles": exit(TilesBenchmark.run(arguments: Array(args.dropFirst())))
case "pmtiles": exit(PMTilesBenchmark.run(arguments: Array(args.dropFirst())))
case "tiles-child": exit(TilesBenchmark.child(arguments: Array(args.dropFirst())))
case "serve": exit(ServeBenchmark.run(arguments: Array(args.dropFirst())))
case "tiles-measure": exit(TilesBenchmark.measureChild(arguments: Array(args.dropFirst())))
case "render": exit(RenderBenchmark.run(arguments: Array(args.dropFirst())))
case "carto": exit(CartoBenchmark.run(arguments: Array(args.dropFirst())))
case "incremental": exit(IncrementalBenchmark.run(arguments: Array(args.dropFirst())))
case "source-index": exit(SourceIndexBenchmark.run(arguments: Array(args.dropFirst())))
default:
    print("""
    usage: tiledrop-bench convert [options]   readers vs ogr2ogr -f GeoJSONSeq (MB/s, peak RSS, ratio)
           tiledrop-bench tiles [options]     tiler vs tippecanoe (seconds, CPU, peak RSS, tiles, ratio)
           tiledrop-bench render [options]    raster tiles vs Mapnik (render + PNG, sizes, JPEG vs Pillow)
           tiledrop-bench pmtiles [options]   publish MBTiles only vs MBTiles + PMTiles (overhead, sizes)
           tiledrop-bench incremental [options] daemon: 1 and 100 features appended to 10k-145k cities (s, RSS)
           tiledrop-bench source-index [options] stable ids + spatial index on 145k cities: build, tile and id lookups, ingest slowdown
           tiledrop-bench serve [SECONDS] [--background idle|nice]  tile server vs nginx static files under wrk (requests/s, p99, RSS)
           tiledrop-bench carto [--tiles N]   CARTO layer group .mvt/.png vs plain vector and raster tiles (medians, ratios)
    Build with `swift build -c release` first; benchmarks are programs, not tests.
    """)
    exit(args.isEmpty || args.first == "--help" ? 0 : 64)
}
