import CFuzzerDriver
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FuzzSupport
import LossDSL

/// libFuzzer target: the bytes are a DEAP prefix string (CSE-Autoloss's published form),
/// imported as every kind. A valid import goes through the rest of the pipeline and one
/// evaluation, and must print as a `.loss` file (`DEAPImport.source`) that parses back to
/// the same formula.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDEAP(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 || start == nil ? [] : [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    for kind in LossKind.allCases {
        do {
            let f = try DEAPImport.formula(text, kind: kind)
            guard kind.isSupported else { continue }
            FuzzCheck.compileAndEvaluate(f)
            FuzzCheck.deapSourceRoundTrips(text, f)
        } catch {
            FuzzCheck.diagnosed(error)
        }
    }
    return 0
}

// main: libFuzzer reads its flags (-max_total_time=, -timeout=, corpus dirs, …) from argv.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzDEAP(data, size) }))
