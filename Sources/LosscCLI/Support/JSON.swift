import LossDSL

/// Minimal JSON writing for `--json` outputs (no Foundation encoder: stable key order).
enum JSON {
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) }
                else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    static func number(_ v: Double) -> String { v.isFinite ? formatNumber(v) : string(formatNumber(v)) }

    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

    static func diagnostic(_ d: Diagnostic, _ file: SourceFile) -> String {
        var pairs: [(String, String)] = [("id", string(d.id)), ("severity", string(d.severity.rawValue))]
        if let sp = d.span {
            let (l, c) = file.location(of: sp.start)
            pairs += [("file", string(file.path)), ("line", "\(l)"), ("column", "\(c)")]
        }
        pairs.append(("message", string(d.message)))
        if let h = d.hint { pairs.append(("hint", string(h))) }
        if let f = d.fixIt { pairs.append(("fixIt", string(f))) }
        return object(pairs)
    }

    /// The check report; `extra` adds keys after the standard ones (the convergence stages).
    static func report(_ r: CheckReport, _ loss: CompiledLoss, extra: [(String, String)] = []) -> String {
        let f = loss.formula
        let sections = r.sections.map { s in
            object([("name", string(s.name)), ("status", string(s.status.rawValue)),
                    ("details", array(s.details.map(string))),
                    ("diagnostics", array(s.diagnostics.map { diagnostic($0, f.file) }))])
        }
        return object([("file", string(f.file.path)), ("name", string(f.name)), ("kind", string(f.kind.rawValue)),
                       ("params", object(f.params.map { ($0.name, number($0.value)) })),
                       ("searchSpace", f.isInSearchSpace ? "true" : "false"),
                       ("passed", r.passed ? "true" : "false"), ("sections", array(sections))] + extra)
    }
}
