#if canImport(Glibc)
import Glibc
#endif

// tiledrop-bench SUBCOMMAND: benchmark programs (not tests); each prints its figures.
let benchArguments = Array(CommandLine.arguments.dropFirst())
switch benchArguments.first {
case "tiles": exit(TilesBenchmark.run(arguments: Array(benchArguments.dropFirst())))
case "tiles-child": exit(TilesBenchmark.child(arguments: Array(benchArguments.dropFirst())))
case "tiles-measure": exit(TilesBenchmark.measureChild(arguments: Array(benchArguments.dropFirst())))
default: print("usage: tiledrop-bench tiles [--fixtures DIR] [--keep DIR]")
}
