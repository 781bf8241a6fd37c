import CFuzzer
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer's command line (corpus directories, -max_total_time=…, -runs=…) is passed through.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzSegment(data!, size) })
