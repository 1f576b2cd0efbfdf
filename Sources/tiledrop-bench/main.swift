import Glibc

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "convert": exit(ConvertBenchmark.main(Array(args.dropFirst())))
case "convert-run": exit(ConvertBenchmark.run(Array(args.dropFirst())))
default: print("bench")
}
