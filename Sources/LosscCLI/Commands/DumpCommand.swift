import LossDSL

/// `lossc dump FILE`: the graph after each pass, so anyone can see what each pass did.
enum DumpCommand {
    static let spec = CommandSpec(
        name: "dump", summary: "Print the graph after each compiler pass.",
        usage: "dump FILE [--pass NAME] [--param NAME=VALUE]... [--protected]",
        options: [
            OptionSpec(name: "pass", value: "NAME", help: "Only this pass (lowered, canonicalized, stabilized, box front end, differentiated, optimized)."),
            .param,
            .protected,
        ],
        details: "Example: lossc dump examples/bce.loss --pass stabilized")

    static func run(_ a: Arguments) throws -> ExitStatus {
        let formula = try loadFormula(a.positionals[0], params: try parseParams(a.values["param"] ?? []))
        let loss = CompiledLoss.compile(formula, options: CompileOptions(protected: a.has("protected"), keepStages: true))
        var stages = loss.stages
        if let p = a.value("pass") {
            stages = stages.filter { $0.name == p }
            if stages.isEmpty {
                throw UsageError("no pass named '\(p)'", hint: "passes: " + loss.stages.map(\.name).joined(separator: ", "))
            }
        }
        for s in stages {
            let n = s.graph.liveCount(from: s.roots)
            Terminal.write("== \(s.name) (\(n) nodes)\n")
            Terminal.write(GraphPrinter.dump(s.graph, roots: s.roots, rootNames: s.rootNames, kind: formula.kind, params: formula.params))
            Terminal.write("\n")
        }
        return .success
    }
}
