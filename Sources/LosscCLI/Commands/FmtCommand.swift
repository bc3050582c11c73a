import LossDSL

/// `lossc fmt FILE`: print the file in canonical form (it parses back to the same graph).
enum FmtCommand {
    static let spec = CommandSpec(
        name: "fmt", summary: "Print a loss file in canonical form.",
        usage: "fmt FILE [--write | --check]",
        options: [
            OptionSpec(name: "write", value: nil, help: "Rewrite FILE in place (atomically).", short: "w"),
            OptionSpec(name: "check", value: nil, help: "Exit 1 if FILE is not already formatted."),
        ],
        details: "Example: lossc fmt --write examples/focal.loss")

    static func run(_ a: Arguments) throws -> ExitStatus {
        let path = a.positionals[0]
        let file = SourceFile(path: path, bytes: try readFile(path))
        let ast: LossFile
        switch Parser.parse(file) {
        case .success(let f): ast = f
        case .failure(let e): Terminal.error(e.render(color: Terminal.stderrColor)); return .badInput
        }
        // Refuse to format a file that does not compile: fmt must never hide an error.
        do {
            if ast.kind == .ranking { _ = try RankingFormula.parse(file) } else { _ = try Formula.parse(file) }
        } catch {
            Terminal.error(error.render(color: Terminal.stderrColor)); return .badInput
        }
        let text = SourcePrinter.format(ast)
        if a.has("check") {
            let same = text == String(decoding: file.bytes, as: UTF8.self)
            if !same { Terminal.error("\(path): not formatted (run 'lossc fmt --write \(path)')\n") }
            return same ? .success : .checkFailed
        }
        if a.has("write") { try writeOutput(path, text) } else { Terminal.write(text) }
        return .success
    }
}
