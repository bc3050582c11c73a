import LossDSL

/// One option a subcommand accepts.
struct OptionSpec {
    let name: String
    let value: String?
    let help: String
    var repeatable = false
    var short: String? = nil
}

extension OptionSpec {
    /// `--param NAME=VALUE`, shared by every command that compiles a loss.
    static let param = OptionSpec(name: "param", value: "NAME=VALUE", help: "Override a param's default.", repeatable: true)
    /// `--protected`, CSE-Autoloss's guarded log/div/exp.
    static let protected = OptionSpec(name: "protected", value: nil, help: "Use CSE-Autoloss's protected log/div/exp.")
    /// `-o, --output OUT`, written atomically.
    static let output = OptionSpec(name: "output", value: "OUT", help: "Write to OUT (atomically) instead of stdout.", short: "o")
}

/// What a subcommand accepts, for parsing and `--help`.
struct CommandSpec {
    let name: String
    let summary: String
    let usage: String
    let options: [OptionSpec]
    var positionals: ClosedRange<Int> = 1...1
    var details: String = ""

    var help: String {
        var s = "OVERVIEW: \(summary)\n\nUSAGE: lossc \(usage)\n"
        if !details.isEmpty { s += "\n" + details + "\n" }
        s += "\nOPTIONS:\n"
        for o in options + [OptionSpec(name: "help", value: nil, help: "Show this help.", short: "h")] {
            var left = "  --\(o.name)" + (o.value.map { " \($0)" } ?? "")
            if let sh = o.short { left = "  -\(sh), --\(o.name)" + (o.value.map { " \($0)" } ?? "") }
            s += left + String(repeating: " ", count: max(2, 28 - left.count)) + o.help + "\n"
        }
        return s
    }
}

/// Parsed arguments of one subcommand.
struct Arguments {
    var positionals: [String] = []
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    /// The subcommand's name and its arguments as given, for `commandLine`.
    var command = ""
    var raw: [String] = []

    func value(_ name: String) -> String? { values[name]?.last }

    /// `lossc COMMAND ARGS…` as given, each argument shell-quoted where it needs it: the
    /// "regenerate with" line of emitted files, so rerunning it keeps `--param`, `--name` and `-o`.
    var commandLine: String {
        (["lossc", command] + raw).map(Self.shellQuoted).joined(separator: " ")
    }

    /// `s` as one POSIX shell word: as is when it holds only safe characters, else single-quoted.
    static func shellQuoted(_ s: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=,:+@%")
        if !s.isEmpty, s.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
    func has(_ name: String) -> Bool { flags.contains(name) }

    /// Parses `args` against `spec`. `--help` is answered by the caller via `wantsHelp`.
    static func parse(_ args: [String], _ spec: CommandSpec) throws -> Arguments {
        var a = Arguments()
        a.command = spec.name
        a.raw = args
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let arg = args[i]
            i += 1
            if onlyPositionals || !arg.hasPrefix("-") || arg == "-" { a.positionals.append(arg); continue }
            if arg == "--" { onlyPositionals = true; continue }
            var name: String, inline: String?
            if arg.hasPrefix("--") {
                let body = String(arg.dropFirst(2))
                if let eq = body.firstIndex(of: "=") { name = String(body[..<eq]); inline = String(body[body.index(after: eq)...]) }
                else { name = body }
            } else {
                let sh = String(arg.dropFirst())
                guard let o = spec.options.first(where: { $0.short == sh }) else {
                    if sh == "h" { a.flags.insert("help"); continue }
                    throw UsageError("unknown option '\(arg)'", hint: "see 'lossc \(spec.name) --help'")
                }
                name = o.name
            }
            if name == "help" { a.flags.insert("help"); continue }
            guard let o = spec.options.first(where: { $0.name == name }) else {
                let near = nearestNames(to: name, in: spec.options.map(\.name))
                throw UsageError("unknown option '--\(name)'",
                                 hint: near.first.map { "did you mean '--\($0)'?" } ?? "see 'lossc \(spec.name) --help'")
            }
            if o.value != nil {
                let v: String
                if let inline { v = inline } else {
                    guard i < args.count else { throw UsageError("option '--\(name)' needs a value \(o.value!)") }
                    v = args[i]; i += 1
                }
                if !o.repeatable, a.values[name] != nil { throw UsageError("option '--\(name)' given twice") }
                a.values[name, default: []].append(v)
            } else {
                if inline != nil { throw UsageError("option '--\(name)' takes no value") }
                a.flags.insert(name)
            }
        }
        if !a.has("help"), !spec.positionals.contains(a.positionals.count) {
            if a.positionals.count < spec.positionals.lowerBound {
                throw UsageError("missing argument", hint: "usage: lossc \(spec.usage)")
            }
            throw UsageError("unexpected argument '\(a.positionals[spec.positionals.upperBound])'", hint: "usage: lossc \(spec.usage)")
        }
        return a
    }

    /// Parses a choice option (e.g. --precision f32|f64).
    func choice<T: RawRepresentable>(_ name: String, default d: T) throws -> T where T.RawValue == String {
        guard let v = value(name) else { return d }
        guard let t = T(rawValue: v) else { throw UsageError("invalid value '\(v)' for --\(name)") }
        return t
    }
}

enum Precision: String { case f32, f64 }
enum OutputFormat: String { case text, csv, json }
