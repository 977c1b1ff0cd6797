#if canImport(Glibc)
import Glibc
#endif

// libFuzzer's driver, entered from this program's own main: SwiftPM names the entry point of an executable itself,
// so libFuzzer's main cannot be the one linked.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argc, &argv) { fuzzHTTP1($0, $1) })
