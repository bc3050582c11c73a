import LossDSL

/// `lossc ops`: the operator table.
enum OpsCommand {
    static let spec = CommandSpec(
        name: "ops", summary: "List the operators of the language.",
        usage: "ops", options: [], positionals: 0...0, details: "Example: lossc ops")

    static func run(_ a: Arguments) throws -> ExitStatus {
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
