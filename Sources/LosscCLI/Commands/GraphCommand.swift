import LossDSL

/// `lossc graph FILE`: Graphviz dot of the graph after a pass.
enum GraphCommand {
    static let spec = CommandSpec(
        name: "graph", summary: "Print the expression graph as Graphviz dot.",
        usage: "graph FILE [--pass NAME] [--grad] [--param NAME=VALUE]... [-o OUT]",
        options: [
            OptionSpec(name: "pass", value: "NAME", help: "The pass to show (default: stabilized; with --grad: optimized)."),
            OptionSpec(name: "grad", value: nil, help: "Include the gradient (the tangent graph)."),
            .param,
            .output,
        ],
        details: """
        Shared nodes (used more than once) are filled; roots have a double border.
        Example: lossc graph examples/focal.loss | dot -Tsvg > focal.svg
        """)

    static func run(_ a: Arguments) throws -> ExitStatus {
        let formula = try loadFormula(a.positionals[0], params: try parseParams(a.values["param"] ?? []))
        let loss = CompiledLoss.compile(formula, options: CompileOptions(keepStages: true))
        let want = a.value("pass") ?? (a.has("grad") ? "optimized" : "stabilized")
        guard let stage = loss.stages.first(where: { $0.name == want }) else {
            throw UsageError("no pass named '\(want)'", hint: "passes: " + loss.stages.map(\.name).joined(separator: ", "))
        }
        var roots = stage.roots, names = stage.rootNames
        if !a.has("grad") { roots = [roots[0]]; names = [names[0]] }
        let text = DotPrinter.dot(stage.graph, roots: roots, rootNames: names, kind: formula.kind, params: formula.params,
                                  title: "\(formula.name) (\(formula.kind.rawValue)) after \(stage.name)")
        var sink = OutputSink(path: a.value("output"))
        sink.write(text)
        try sink.finish()
        return .success
    }
}
