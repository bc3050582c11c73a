import LossDSL
/// The helper functions a standalone emitted Swift file carries: one per operator-table
/// `helper` spelling, in Float and Double, with the reference evaluator's exact semantics
/// (`OpMath.swift`), calling the C library through Glibc/Darwin.
enum SwiftHelpers {
    /// The helpers of one precision, `fileprivate` so two emitted files can share a module.
    static func text(_ p: CPrecision) -> String {
        let T = p.swiftType, f = p.helperSuffix, m = p == .f32 ? "f" : ""
        func lit(_ v: Double) -> String { CLiteral.swift(v, p) }
        return """
        @inline(__always) fileprivate func lossc_sigmoid\(f)(_ a: \(T)) -> \(T) {
            if a >= 0 { return 1 / (1 + exp\(m)(-a)) }
            let e = exp\(m)(a)
            return e / (1 + e)
        }
        @inline(__always) fileprivate func lossc_softplus\(f)(_ a: \(T)) -> \(T) { (a > 0 ? a : 0) + log1p\(m)(exp\(m)(-Swift.abs(a))) }
        @inline(__always) fileprivate func lossc_relu\(f)(_ a: \(T)) -> \(T) { a > 0 ? a : (a.isNaN ? a : 0) }
        @inline(__always) fileprivate func lossc_min\(f)(_ a: \(T), _ b: \(T)) -> \(T) { b < a ? b : a }
        @inline(__always) fileprivate func lossc_max\(f)(_ a: \(T), _ b: \(T)) -> \(T) { b > a ? b : a }
        @inline(__always) fileprivate func lossc_select\(f)(_ c: \(T), _ a: \(T), _ b: \(T)) -> \(T) { c > 0 ? a : b }
        @inline(__always) fileprivate func lossc_step\(f)(_ a: \(T)) -> \(T) { a > 0 ? 1 : 0 }
        @inline(__always) fileprivate func lossc_sign\(f)(_ a: \(T)) -> \(T) { a > 0 ? 1 : (a < 0 ? -1 : a) }
        @inline(__always) fileprivate func lossc_scaled_gd\(f)(_ a: \(T)) -> \(T) {
            \(lit(2 / Double.pi)) * atan\(m)(exp\(m)(\(lit(Double.pi / 4)) * a))
        }
        @inline(__always) fileprivate func lossc_scaled_alf\(f)(_ a: \(T)) -> \(T) {
            let b = a / 2
            if Swift.abs(b) > 1 {
                if b > 0 { return (1 / sqrt\(m)(1 + 1 / (b * b)) + 1) / 2 }
                let s = -b * sqrt\(m)(1 + 1 / (b * b))
                return 1 / (2 * s * (s - b))
            }
            let s = sqrt\(m)(1 + b * b)
            return b < 0 ? 1 / (2 * s * (s - b)) : (b / s + 1) / 2
        }
        @inline(__always) fileprivate func lossc_scaled_erf\(f)(_ a: \(T)) -> \(T) { erfc\(m)(\(lit(-Double.pi.squareRoot() / 4)) * a) / 2 }
        @inline(__always) fileprivate func lossc_scaled_erfc\(f)(_ a: \(T)) -> \(T) { erfc\(m)(\(lit(Double.pi.squareRoot() / 4)) * a) / 2 }


        """
    }

    /// Swift keywords that need backquotes as identifiers.
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
        "inout", "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public",
        "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue",
        "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return",
        "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self", "Self",
        "super", "throws", "true", "try", "async", "consume", "copy", "discard", "each", "borrowing",
        "consuming", "some", "any", "Type", "Protocol",
    ]

    /// Names the emitted Swift file itself refers to: a loss or param with one of them would
    /// shadow it (an enum `Float` breaks every `Float` in the file). Read from the operator
    /// table (libm spellings, float and double) plus the types and helpers the writer uses.
    static let referenced: Set<String> = {
        var s: Set<String> = ["Float", "Double", "Int", "Int32", "Bool", "Sendable", "Params", "Array", "Swift",
                              "UnsafePointer", "UnsafeMutablePointer", "UnsafeBufferPointer", "UnsafeMutableBufferPointer",
                              "Glibc", "Musl", "Darwin", "min", "max", "abs", "n", "classes", "params"]
        for op in Op.allCases { if case .libm(let f) = op.info.cSpelling { s.insert(f); s.insert(f + "f") } }
        return s
    }()

    /// A Swift identifier for a name, injective: a plain ASCII name (as in C, but capitals
    /// allowed: Swift has no macros) that is not a keyword and not referenced by the emitted
    /// file is kept; anything else is encoded as `CNames.identifier` encodes (ends in `_`).
    static func identifier(_ name: String) -> String {
        let temporary = name.first == "t" && Int(name.dropFirst()) != nil   // the writer's t<id> values
        if CNames.hasPlainShape(name), !referenced.contains(name), !name.hasPrefix("lossc_"), !temporary {
            return keywords.contains(name) ? "`\(name)`" : name
        }
        return CNames.encoded(name)
    }
}
