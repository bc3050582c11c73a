/// The one number syntax of the command line, the same as in `.loss` files: an optional sign,
/// decimal digits with an optional fraction and exponent (`1`, `-0.25`, `1e-3`, `.5`). No hex
/// (`0x10`), no `inf`/`nan`, no spaces inside: what a `.loss` file refuses, options refuse too.
/// Data cells also accept `nan`, `inf`, `+inf`, `-inf` (then refused unless --allow-nonfinite).
enum CLINumber {
    /// A decimal number (finite or overflowing to ±inf: callers check finiteness), or nil.
    static func parse(_ text: Substring) -> Double? {
        let b = Array(text.utf8)
        var i = 0
        func digits() -> Int { let s = i; while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }; return i - s }
        if i < b.count, b[i] == 43 || b[i] == 45 { i += 1 }
        var mantissa = digits()
        if i < b.count, b[i] == 46 { i += 1; mantissa += digits() }
        guard mantissa > 0 else { return nil }
        if i < b.count, b[i] == 101 || b[i] == 69 {
            i += 1
            if i < b.count, b[i] == 43 || b[i] == 45 { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == b.count else { return nil }
        return Double(text)
    }

    static func parse(_ text: String) -> Double? { parse(text[...]) }

    /// A data cell: a decimal number, or nan/inf/+inf/-inf (any case).
    static func cell(_ text: Substring) -> Double? {
        if let d = parse(text) { return d }
        switch text.lowercased() {
        case "nan", "+nan", "-nan": return .nan
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return nil
        }
    }
}
