import CFuzzerDriver
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FuzzSupport
import LossDSL

/// libFuzzer target: the bytes are a `.loss` file. It goes through parse and lower, and a valid
/// formula through canonicalize, stabilize, differentiate and one evaluation at a fixed point
/// (ranking files through the batch-level reference evaluator and kernel); `lossc fmt` must
/// print it as a file that parses back to the same graph. Every kind is
/// reached through the file's own header.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 || start == nil ? [] : [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let file = SourceFile(path: "<fuzz>", bytes: bytes)
    do {
        if RankingFormula.isRanking(file) == true {
            let f = try RankingFormula.parse(file)
            FuzzCheck.evaluate(f)
            FuzzCheck.formatRoundTrips(f.formula, ranking: true)
        } else {
            let f = try Formula.parse(file)
            FuzzCheck.compileAndEvaluate(f)
            FuzzCheck.formatRoundTrips(f)
        }
    } catch {
        FuzzCheck.diagnosed(error)
    }
    return 0
}

// main: libFuzzer reads its flags (-max_total_time=, -timeout=, corpus dirs, …) from argv.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzParser(data, size) }))
