import LossDSL

/// `lossc import --deap STRING --kind KIND`: a CSE-Autoloss prefix string as a `.loss` file.
enum ImportCommand {
    static let spec = CommandSpec(
        name: "import", summary: "Convert a CSE-Autoloss DEAP string into a .loss file.",
        usage: "import --deap STRING --kind binary|multiclass|box [--name NAME] [-o OUT]",
        options: [
            OptionSpec(name: "deap", value: "STRING", help: "The prefix string, e.g. 'Neg(Dot(Y,Log(Softmax(X))))'."),
            OptionSpec(name: "kind", value: "KIND", help: "binary (X,Q,PY,NY), multiclass (X,Y,Z) or box (U,I,E)."),
            OptionSpec(name: "name", value: "NAME", help: "The loss's name (default: imported)."),
            .output,
        ],
        positionals: 0...0,
        details: "Example: lossc import --kind multiclass --deap 'Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))' -o a_cls.loss")

    static func run(_ a: Arguments) throws -> ExitStatus {
        guard let deap = a.value("deap") else { throw UsageError("missing --deap STRING") }
        guard let k = a.value("kind") else { throw UsageError("missing --kind", hint: "binary, multiclass or box") }
        guard let kind = LossKind(rawValue: k), kind.isSupported else {
            throw UsageError("unknown kind '\(k)'", hint: "binary, multiclass or box")
        }
        let name = a.value("name") ?? "imported"
        guard let f = name.utf8.first, isIdentifierByte(f, first: true), name.utf8.allSatisfy({ isIdentifierByte($0, first: false) }) else {
            throw UsageError("--name must be a name (letters, digits, '_')")
        }
        do {
            let text = try DEAPImport.source(deap, kind: kind, name: name)
            var sink = OutputSink(path: a.value("output"))
            sink.write(text)
            try sink.finish()
            return .success
        } catch let e as DiagnosticError {
            Terminal.error(e.render(color: Terminal.stderrColor))
            return .badInput
        }
    }

    static func isIdentifierByte(_ c: UInt8, first: Bool) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || (!first && c >= 48 && c <= 57)
    }
}
