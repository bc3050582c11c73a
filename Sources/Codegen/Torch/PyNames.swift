/// Identifiers, string literals and comment text for the emitted PyTorch module: everything
/// that comes from a `.loss` file or an API caller goes through here, so no user text reaches
/// the Python code unescaped.
///
/// - names (params as keyword arguments, the loss name in class names) are mapped injectively
///   to identifiers that are not Python keywords, soft keywords or builtins, nor names the
///   module's own code uses (`identifier(_:)`);
/// - text (param names as dictionary keys, the loss name) appears only in string literals
///   written with ASCII escapes (`stringLiteral(_:)`);
/// - the source formula appears only in `#` comments, one source line per comment line, with
///   every character outside printable ASCII written `<U+XXXX>` (`commentText(_:)`), so a
///   newline, carriage return or form feed cannot end the comment.
public enum PyNames {
    /// A safe Python identifier for `name`, injective over all strings: a plain name (ASCII
    /// letters, digits and single inner underscores, starting with a letter) that is not
    /// reserved stays as it is; anything else is encoded as `CNames` does (`v` + body + `_`),
    /// and encoded names always end in `_`, plain ones never.
    public static func identifier(_ name: String) -> String {
        CNames.hasPlainShape(name) && !reserved.contains(name) ? name : CNames.encoded(name)
    }

    /// The class name of a loss: `focal` → `FocalLoss`, `quality_focal` → `QualityFocalLoss`,
    /// `ap_loss` → `ApLoss` (a trailing `loss` is not repeated). Built from `identifier(_:)`,
    /// so it is a safe identifier; it always ends in `Loss` and so never collides with the
    /// module's other names (all lowercase or starting with `_`).
    public static func className(_ name: String) -> String {
        var words = identifier(name).split(separator: "_").map(String.init)
        if words.count > 1, words.last?.lowercased() == "loss" { words.removeLast() }
        var camel = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        if camel.hasSuffix("Loss") || camel.hasSuffix("loss") { camel.removeLast(4) }
        return (camel.isEmpty ? "Lossc" : camel) + "Loss"
    }

    /// A double-quoted Python string literal for `text`: printable ASCII other than `"` and
    /// `\` is kept; everything else is a `\xHH`, `\uXXXX` or `\UXXXXXXXX` escape.
    public static func stringLiteral(_ text: String) -> String {
        var out = "\""
        for s in text.unicodeScalars {
            let v = s.value
            if v >= 0x20, v < 0x7F, s != "\"", s != "\\" { out.unicodeScalars.append(s); continue }
            if v < 0x100 { out += "\\x" + hex(v, 2) }
            else if v < 0x10000 { out += "\\u" + hex(v, 4) }
            else { out += "\\U" + hex(v, 8) }
        }
        return out + "\""
    }

    /// Text safe inside a one-line `#` comment: printable ASCII is kept, anything else
    /// (newlines, carriage returns, form feeds, tabs, backslashes, non-ASCII) is `<U+XXXX>`.
    public static func commentText(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            let v = s.value
            if v >= 0x20, v < 0x7F, s != "\\" { out.unicodeScalars.append(s) } else { out += "<U+" + hex(v, 4).uppercased() + ">" }
        }
        return out
    }

    /// A Python float literal that reads back as exactly `value` (Swift prints the shortest
    /// decimal that round-trips, and Python parses decimals correctly rounded); negative
    /// values are parenthesized, non-finite ones use `math`.
    public static func floatLiteral(_ value: Double) -> String {
        if value.isNaN { return "math.nan" }
        if value.isInfinite { return value < 0 ? "(-math.inf)" : "math.inf" }
        let body = "\(Swift.abs(value))"
        return value.sign == .minus ? "(-\(body))" : body
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: Swift.max(0, width - s.count)) + s
    }

    /// Python keywords and soft keywords, builtins, and the names the emitted code uses where
    /// a param's keyword argument lives (`__init__`'s parameters and the globals it reads).
    static let reserved: Set<String> = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "case", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if",
        "import", "in", "is", "lambda", "match", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "type", "while", "with", "yield",
        "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray",
        "bytes", "callable", "chr", "classmethod", "compile", "complex", "copyright", "credits",
        "delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec", "exit", "filter", "float",
        "format", "frozenset", "getattr", "globals", "hasattr", "hash", "help", "hex", "id", "input",
        "int", "isinstance", "issubclass", "iter", "len", "license", "list", "locals", "map", "max",
        "memoryview", "min", "next", "object", "oct", "open", "ord", "pow", "print", "property",
        "quit", "range", "repr", "reversed", "round", "set", "setattr", "slice", "sorted",
        "staticmethod", "str", "sum", "super", "tuple", "vars", "zip", "Ellipsis", "NotImplemented",
        "self", "reduction", "torch", "math", "params",
    ]
}
