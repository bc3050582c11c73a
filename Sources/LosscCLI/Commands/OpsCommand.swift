import LossDSL

/// `lossc ops`: the operator table; `lossc ops --rules`: the stabilize rule table. Both print the
/// tables themselves, so the manual quotes this output (and a test compares the two).
enum OpsCommand {
    static let spec = CommandSpec(
        name: "ops", summary: "List the operators of the language (or, with --rules, the stabilize rewrites).",
        usage: "ops [--rules]",
        options: [OptionSpec(name: "rules", value: nil, help: "Print the stabilize rewrite rules instead of the operators.")],
        positionals: 0...0, details: "Example: lossc ops")

    static func run(_ a: Arguments) throws -> ExitStatus {
        if a.has("rules") {
            for rule in Stabilize.rules {
                Terminal.write(rule.name.padded(25) + rule.before + "  ->  " + rule.after + "\n")
            }
            return .success
        }
        for family in [OpFamily.searchSpace, .extra, .helper] {
            Terminal.write("\(family.rawValue):\n")
            for op in Op.allCases where op.info.family == family {
                let i = op.info
                let sig = "\(i.name)(" + ["a", "b", "c"].prefix(i.arity).joined(separator: ", ") + ")"
                Terminal.write("  " + sig.padded(18) + (i.deapName.map { "[\($0)] " } ?? "") + i.summary + "\n")
            }
        }
        Terminal.write("sugar:\n  clamp(a, lo, hi)  min(max(a, lo), hi)\n")
        return .success
    }
}
