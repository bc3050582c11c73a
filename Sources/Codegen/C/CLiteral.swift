/// Numeric literals for emitted C and Swift, exact in both precisions.
///
/// Integers print as `2.0`; anything else as a C99 hexadecimal float, which is exact: a
/// decimal literal like `0.1f` would round the decimal value to float directly, which can
/// differ from the reference evaluator's `Float(Double(0.1))` (double rounding).
public enum CLiteral {
    /// The value as a literal of `precision` (the constant is first rounded to that precision,
    /// as the reference evaluator does). Non-finite values use `INFINITY`/`NAN` in C.
    public static func c(_ value: Double, _ precision: CPrecision) -> String {
        let v = precision == .f32 ? Double(Float(value)) : value
        if v.isNaN { return precision == .f32 ? "NAN" : "(double)NAN" }
        if v.isInfinite {
            let inf = precision == .f32 ? "INFINITY" : "(double)INFINITY"
            return v < 0 ? "(-\(inf))" : inf
        }
        let body = magnitude(abs(v)) + (precision == .f32 ? "f" : "")
        return v.sign == .minus ? "(-\(body))" : body
    }

    /// The value as a Swift literal of `Float` or `Double`.
    public static func swift(_ value: Double, _ precision: CPrecision) -> String {
        let t = precision == .f32 ? "Float" : "Double"
        let v = precision == .f32 ? Double(Float(value)) : value
        if v.isNaN { return "\(t).nan" }
        if v.isInfinite { return v < 0 ? "(-\(t).infinity)" : "\(t).infinity" }
        let body = "\(t)(\(magnitude(abs(v))))"
        return v.sign == .minus ? "(-\(body))" : body
    }

    /// `|v|` as `2.0` (integers below 2^53) or `0x1.8p-3`.
    static func magnitude(_ v: Double) -> String {
        if v == v.rounded(), v < 0x1p53 { return String(Int64(v)) + ".0" }
        return hex(v)
    }

    /// A positive finite double as a hexadecimal float literal (`0x1.999999999999ap-4`).
    static func hex(_ v: Double) -> String {
        var exponent = Int(v.exponentBitPattern) - 1023
        var lead = "1"
        if v.exponentBitPattern == 0 { exponent = -1022; lead = "0" }   // subnormal
        var digits = String(v.significandBitPattern, radix: 16)
        digits = String(repeating: "0", count: 13 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "0x\(lead)" + (digits.isEmpty ? "" : "." + digits) + "p\(exponent >= 0 ? "+" : "")\(exponent)"
    }
}

/// A floating-point precision of emitted code.
public enum CPrecision: String, CaseIterable, Sendable {
    case f32, f64

    /// The C (and Swift) type name.
    public var cType: String { self == .f32 ? "float" : "double" }
    public var swiftType: String { self == .f32 ? "Float" : "Double" }
    /// The suffix of CLossMath's functions and of the emitter's helpers.
    var helperSuffix: String { self == .f32 ? "_f" : "_d" }
}
