import CFuzzerDriver
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FuzzSupport
import LossDSL

/// libFuzzer target: the bytes are a DEAP prefix string (CSE-Autoloss's published form),
/// imported as every kind. A valid import must print as a `.loss` file that parses back
/// (`DEAPImport.source`), and goes through the rest of the pipeline and one evaluation.
///
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDEAP(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 || start == nil ? [] : [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    for kind in LossKind.allCases {
        do {
            let f = try DEAPImport.formula(text, kind: kind)
            guard kind.isSupported else { continue }
            FuzzCheck.compileAndEvaluate(f)
            let source = try DEAPImport.source(text, kind: kind)
            do { _ = try Formula.parse(source, path: "<deap source>") } catch {
                FuzzCheck.check(false, "an imported DEAP string printed as a file that does not parse:\n\(source)\n\(error.render())")
            }
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
