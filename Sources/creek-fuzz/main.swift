// libFuzzer entry point. Built by scripts/fuzz.sh with `-sanitize=fuzzer -parse-as-library`:
// SwiftPM links an executable's entry as `creek_fuzz_main`, which hands control to
// libFuzzer's driver. Built plainly (as `swift build` does) the program does nothing.
import CreekFuzzing
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func creekFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let name = getenv("CREEK_FUZZ_TARGET").map { String(cString: $0) } ?? "request"
    let target = FuzzTarget(rawValue: name) ?? .request
    target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

#if CREEK_FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("creek_fuzz_main")
public func creekFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in creekFuzzOneInput(data, size) }
}
#endif
