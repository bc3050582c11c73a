import Foundation
import Testing
@testable import Codegen
import LossDSL

/// The prelude: its copy of lossc_math.h is the header itself, and every helper an operator
/// spells as C computes what the operator table's math computes (`Op.apply`), special values
/// included; `pow` also against the C library's pow over a grid and C99's special cases.
@Suite(.serialized) struct CPreludeTests {
    @Test func embeddedMathIsTheHeader() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/CLossMath/include/lossc_math.h").path
        let header = try String(contentsOfFile: path, encoding: .utf8)
        #expect(CPrelude.mathHeader + "\n" == header, "run scripts/embed-lossc-math.sh after changing lossc_math.h")
    }

    static let specials: [Double] = [0, -0.0, 1, -1, 0.5, -0.5, 2, -2, 3, 1e-30, -1e-30, 1e-45, 88, 89, -100, 100, 1e30,
                                     -1e30, .infinity, -.infinity, .nan, 0.3, -7.25, 2.5, 1e4, -1e4, 710, -750]

    /// The helpers built into a library, one exported wrapper each.
    static func library(_ cc: SystemCompiler) throws -> NativeLibrary {
        var s = CPrelude.text
        for op in Op.allCases {
            guard case .helper(let h) = op.info.cSpelling else { continue }
            for p in CPrecision.allCases {
                let T = p.cType, args = (0..<op.arity).map { "\(T) a\($0)" }.joined(separator: ", ")
                let call = (0..<op.arity).map { "a\($0)" }.joined(separator: ", ")
                s += "\(T) test_\(h)\(p.helperSuffix)(\(args));\n"
                s += "\(T) test_\(h)\(p.helperSuffix)(\(args)) { return lossc_\(h)\(p.helperSuffix)(\(call)); }\n"
            }
        }
        s += "float test_pow_f(float a, float b);\nfloat test_pow_f(float a, float b) { return lossc_pow_f(a, b); }\n"
        s += "double test_pow_d(double a, double b);\ndouble test_pow_d(double a, double b) { return lossc_pow_d(a, b); }\n"
        return try CHarness.build(s, tag: "prelude", compiler: cc)
    }

    typealias F1 = @convention(c) (Float) -> Float
    typealias F2 = @convention(c) (Float, Float) -> Float
    typealias F3 = @convention(c) (Float, Float, Float) -> Float
    typealias D1 = @convention(c) (Double) -> Double
    typealias D2 = @convention(c) (Double, Double) -> Double
    typealias D3 = @convention(c) (Double, Double, Double) -> Double

    /// Same value (bit-exact for selections, a few ulps for libm-based curves), same class.
    static func same(_ c: Double, _ r: Double, ulps: Double, _ isFloat: Bool) -> Bool {
        if c.isNaN || r.isNaN { return c.isNaN && r.isNaN }
        if c == r { return c.sign == r.sign || c != 0 }
        if c.isInfinite || r.isInfinite { return false }
        let ulp = isFloat ? Double(Float(r).ulp) : r.ulp
        return abs(c - r) <= ulps * max(ulp, isFloat ? Double(Float.leastNormalMagnitude) : Double.leastNormalMagnitude)
    }

    @Test func helpersMatchTheOperatorTable() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let lib = try Self.library(cc)
        var bad: [String] = []
        for op in Op.allCases {
            guard case .helper(let h) = op.info.cSpelling else { continue }
            // Selections are exact; curves built on libm calls (atan, erfc, tanh) within 4 ulps.
            let ulps: Double = [.relu, .min, .max, .select, .sign, .step].contains(op) ? 0 : 4
            let pf = try #require(lib.symbol("test_\(h)_f")), pd = try #require(lib.symbol("test_\(h)_d"))
            let grid = op.arity == 1 ? Self.specials.map { [$0] }
                : Self.specials.flatMap { a in Self.specials.prefix(12).map { op.arity == 2 ? [a, $0] : [$0, a, -a] } }
            for a in grid {
                let f = a.map { Float($0) }
                let cf: Float, cd: Double
                switch op.arity {
                case 1: cf = unsafeBitCast(pf, to: F1.self)(f[0]); cd = unsafeBitCast(pd, to: D1.self)(a[0])
                case 2: cf = unsafeBitCast(pf, to: F2.self)(f[0], f[1]); cd = unsafeBitCast(pd, to: D2.self)(a[0], a[1])
                default: cf = unsafeBitCast(pf, to: F3.self)(f[0], f[1], f[2]); cd = unsafeBitCast(pd, to: D3.self)(a[0], a[1], a[2])
                }
                let rf = op.apply(f[0], f.count > 1 ? f[1] : 0, f.count > 2 ? f[2] : 0)
                let rd = op.apply(a[0], a.count > 1 ? a[1] : 0, a.count > 2 ? a[2] : 0)
                if !Self.same(Double(cf), Double(rf), ulps: ulps, true) { bad.append("\(h)_f\(f) = \(cf), table \(rf)") }
                if !Self.same(cd, rd, ulps: ulps, false) { bad.append("\(h)_d\(a) = \(cd), table \(rd)") }
            }
        }
        #expect(bad.isEmpty, "\(bad.count) helper values differ: \(bad.prefix(10))")
    }

    /// lossc_pow against the C library's pow: C99's special cases exactly, and within 1 ulp
    /// (float: computed in double) / 2|b log a| + 3 ulps (double: exp magnifies the rounding
    /// of b log a) on a grid of finite values.
    @Test func powMatchesTheCLibrary() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let lib = try Self.library(cc)
        let pf = unsafeBitCast(try #require(lib.symbol("test_pow_f")), to: F2.self)
        let pd = unsafeBitCast(try #require(lib.symbol("test_pow_d")), to: D2.self)
        var bad: [String] = []
        var bases = Self.specials + [0.999, 1.001, 1e-5, 123.456, -3.5, 4, -4, 0.25]
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<300 { bases.append(Double.random(in: -50...50, using: &rng)) }
        let exponents = Self.specials + [0.5, -0.5, 1.5, -2.5, 3, -3, 4, 5, 1e-3, 7, 2.0000001, 0x1p52, 0x1p53 + 2, -0x1p53 - 1]
        for a in bases {
            for b in exponents {
                let rf = powf(Float(a), Float(b)), cf = pf(Float(a), Float(b))
                if !Self.same(Double(cf), Double(rf), ulps: 1, true) { bad.append("powf(\(Float(a)), \(Float(b))) = \(cf), libm \(rf)") }
                let rd = Foundation.pow(a, b), cd = pd(a, b)
                let allowed = 3 + 2 * abs(b * Foundation.log(abs(a)))
                if !Self.same(cd, rd, ulps: allowed.isFinite ? allowed : 3, false) { bad.append("pow(\(a), \(b)) = \(cd), libm \(rd)") }
            }
        }
        #expect(bad.isEmpty, "\(bad.count) pow values differ: \(bad.prefix(10))")
    }

    @Test func integerPowersAreProducts() {
        #expect(CExpression.integerPower("a", 0, one: "1.0f") == "1.0f")
        #expect(CExpression.integerPower("a", 1, one: "1.0f") == "a")
        #expect(CExpression.integerPower("a", 2, one: "1.0f") == "a * a")
        #expect(CExpression.integerPower("a", 5, one: "1.0f") == "((a * a) * (a * a)) * a")
        #expect(CExpression.integerPower("a", -2, one: "1.0f") == "1.0f / (a * a)")
    }

    @Test func literalsAreExact() {
        #expect(CLiteral.c(0.25, .f64) == "0x1p-2")
        #expect(CLiteral.c(2, .f32) == "2.0f")
        #expect(CLiteral.c(-0.1, .f64) == "(-0x1.999999999999ap-4)")
        #expect(CLiteral.c(0.1, .f32) == "0x1.99999ap-4f")
        #expect(CLiteral.c(-.infinity, .f32) == "(-INFINITY)")
        #expect(CLiteral.c(Double.leastNonzeroMagnitude, .f64) == "0x0.0000000000001p-1022")
        #expect(CLiteral.swift(1e-7, .f64) == "Double(0x1.ad7f29abcaf48p-24)")
    }
}
