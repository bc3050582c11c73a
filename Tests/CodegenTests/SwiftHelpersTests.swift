import Foundation
import Testing
@testable import Codegen
import LossDSL

/// The Swift text of the helpers a standalone emitted Swift file carries (`SwiftHelpers`)
/// against the operator table's math (`Op.apply`): every operator with a helper C spelling has
/// a Swift helper in both precisions, and each, compiled by `swiftc`, returns bit-identical
/// results to `Op.apply` on special values and a few thousand random points (both call the
/// same C library functions in the same order, so any difference is a transcription error).
struct SwiftHelpersTests {
    /// The helper operators, from the table.
    static var helperOps: [(op: Op, name: String)] {
        Op.allCases.compactMap { op in
            if case .helper(let h) = op.info.cSpelling { return (op, h) }
            return nil
        }
    }

    /// Arguments: the C prelude tests' special values, then random values of every magnitude
    /// (sign, exponent and mantissa drawn independently) and a dense band around 0.
    static func points(arity: Int) -> [[Double]] {
        let specials: [Double] = [0, -0.0, 1, -1, 0.5, -0.5, 2, -2, 3, 1e-30, -1e-30, 1e-45, 88, 89, -100, 100, 1e30,
                                  -1e30, .infinity, -.infinity, .nan, 0.3, -7.25, 2.5, 1e4, -1e4, 710, -750]
        var rng = SeededGenerator(seed: 13)
        var values = specials
        for _ in 0..<1500 {
            let m = Double.random(in: 1..<2, using: &rng), e = Double(Int.random(in: -40...40, using: &rng))
            values.append((Bool.random(using: &rng) ? 1 : -1) * m * Foundation.pow(2, e))
        }
        for _ in 0..<500 { values.append(Double.random(in: -20...20, using: &rng)) }
        switch arity {
        case 1: return values.map { [$0] }
        case 2: return values.indices.map { [values[$0], values[($0 * 7 + 3) % values.count]] } + specials.flatMap { a in specials.map { [a, $0] } }
        default: return values.indices.map { [values[$0], values[($0 * 7 + 3) % values.count], values[($0 * 13 + 5) % values.count]] }
        }
    }

    @Test func everyHelperOperatorHasASwiftHelper() {
        for p in CPrecision.allCases {
            let text = SwiftHelpers.text(p)
            for (_, h) in Self.helperOps {
                #expect(text.contains("func lossc_\(h)\(p.helperSuffix)("), "no Swift helper lossc_\(h)\(p.helperSuffix)")
            }
        }
    }

    @Test func swiftHelpersMatchTheOperatorTable() throws {
        guard let swiftc = SwiftEmitterTests.swiftc else { return CHarness.skip("swiftc not on PATH") }
        let dir = try CHarness.temporaryDirectory("swift-helpers")
        defer { try? FileManager.default.removeItem(at: dir) }
        var s = "#if canImport(Glibc)\nimport Glibc\n#elseif canImport(Musl)\nimport Musl\n#elseif canImport(Darwin)\nimport Darwin\n#endif\n\n"
        s += SwiftHelpers.text(.f32) + SwiftHelpers.text(.f64)
        for (op, h) in Self.helperOps {
            let pts = Self.points(arity: op.arity)
            for (p, t) in [("f", "Float"), ("d", "Double")] {
                // Bit patterns in one string literal, parsed at run time (a literal array of
                // thousands of calls would take swiftc minutes to type-check).
                let args = (0..<op.arity).map { k in
                    "\"" + pts.map { t == "Float" ? "\(Float($0[k]).bitPattern)" : "\($0[k].bitPattern)" }.joined(separator: ",")
                        + "\".split(separator: \",\").map { \(t)(bitPattern: \(t == "Float" ? "UInt32" : "UInt64")($0)!) }"
                }
                s += "do {\n"
                for (k, a) in args.enumerated() { s += "    let a\(k) = \(a)\n" }
                let call = (0..<op.arity).map { "a\($0)[i]" }.joined(separator: ", ")
                s += "    print(\"\(h) \(p) \" + a0.indices.map { i in String(lossc_\(h)_\(p)(\(call)).bitPattern) }.joined(separator: \",\"))\n}\n"
            }
        }
        let main = dir.appendingPathComponent("main.swift").path
        try s.write(toFile: main, atomically: true, encoding: .utf8)
        let exe = dir.appendingPathComponent("helpers").path
        let build = swiftc.run(["-swift-version", "6", "-Onone", "-o", exe, main])
        try #require(build.succeeded, "swiftc failed:\n\(build.text.prefix(4000))")
        let out = SystemCompiler(path: exe).run([])
        try #require(out.succeeded, "\(out.text.prefix(2000))")
        var lines: [String: [UInt64]] = [:]
        for line in out.text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            if parts.count == 3 { lines["\(parts[0]) \(parts[1])"] = parts[2].split(separator: ",").compactMap { UInt64($0) } }
        }
        var bad: [String] = [], checked = 0
        for (op, h) in Self.helperOps {
            let pts = Self.points(arity: op.arity)
            let f = try #require(lines["\(h) f"], "no output for \(h) f"), d = try #require(lines["\(h) d"], "no output for \(h) d")
            try #require(f.count == pts.count && d.count == pts.count)
            for (i, a) in pts.enumerated() {
                let x = a.map { Float($0) }
                let rf = op.apply(x[0], x.count > 1 ? x[1] : 0, x.count > 2 ? x[2] : 0)
                let rd = op.apply(a[0], a.count > 1 ? a[1] : 0, a.count > 2 ? a[2] : 0)
                let sf = Float(bitPattern: UInt32(f[i])), sd = Double(bitPattern: d[i])
                if !(sf.bitPattern == rf.bitPattern || (sf.isNaN && rf.isNaN)) { bad.append("lossc_\(h)_f\(x) = \(sf), table \(rf)") }
                if !(sd.bitPattern == rd.bitPattern || (sd.isNaN && rd.isNaN)) { bad.append("lossc_\(h)_d\(a) = \(sd), table \(rd)") }
                checked += 2
            }
        }
        #expect(checked > 20_000)
        #expect(bad.isEmpty, "\(bad.count) of \(checked) Swift helper values differ from Op.apply: \(bad.prefix(10))")
    }
}
