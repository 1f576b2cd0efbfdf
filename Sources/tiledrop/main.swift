#if canImport(Glibc)
import Glibc
#endif

exit(Tiledrop.main(Array(CommandLine.arguments.dropFirst())))
