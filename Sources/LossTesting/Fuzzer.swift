import LossDSL

/// A mutation fuzzer for the front end: mutates valid loss files (and DEAP strings) byte- and
/// token-wise and feeds them to the parser, lowering, optimizer and evaluator. Every input must
/// end in a diagnostic or a valid formula — never a crash, a hang or unbounded memory.
public struct Fuzzer: Sendable {
    /// Inputs the mutations start from.
    public var corpus: [String]
    /// Fragments spliced in by the token mutations: the language's own vocabulary and hostile bits.
    public var dictionary: [String] = ["loss", "param", "let", "return", ":", "=", "(", ")", ",", "+", "-", "*", "/", "^",
                                       "#", "\n", "x", "y", "w", "i", "u", "e", "softmax(", "dot(", "sigmoid(", "log(", "exp(",
                                       "1e308", "1e400", "0x1F", "-0", ".5", "1.", "nan", "inf", "\u{0}", "\u{FF}", "é", "*/",
                                       "\"", "'", "((((((((", "))))))))", "binary", "multiclass", "box", "ranking", "clamp(",
                                       "stop_gradient(", "Neg(", "Sig(", "Dot(", "X", "PY", "NY", "Q", "U", "I", "E"]

    public init(corpus: [String]) { self.corpus = corpus }

    /// Statistics of a fuzzing run.
    public struct Report: Sendable {
        public var inputs = 0
        public var valid = 0
        public var diagnosed = 0
        public var deapInputs = 0
    }

    /// One mutated input.
    public func mutate(_ rng: inout SeededGenerator) -> [UInt8] {
        var b = Array(corpus.randomElement(using: &rng)!.utf8)
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds {
            let pos = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count + 1))
            switch rng.next() % 7 {
            case 0: if pos < b.count { b[pos] ^= UInt8(1 << (rng.next() % 8)) }   // bit flip
            case 1: if pos < b.count { b.remove(at: pos) }                          // delete a byte
            case 2: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: pos)       // random byte
            case 3: b.insert(contentsOf: Array(dictionary.randomElement(using: &rng)!.utf8), at: pos)
            case 4:                                                                  // duplicate a chunk
                if !b.isEmpty {
                    let s = Int(rng.next() % UInt64(b.count)), n = min(b.count - s, 1 + Int(rng.next() % 40))
                    b.insert(contentsOf: b[s..<(s + n)], at: pos)
                }
            case 5:                                                                  // delete a chunk
                if pos < b.count { b.removeSubrange(pos..<min(b.count, pos + 1 + Int(rng.next() % 20))) }
            default:                                                                 // splice another corpus file
                let other = Array(corpus.randomElement(using: &rng)!.utf8)
                let s = other.isEmpty ? 0 : Int(rng.next() % UInt64(other.count))
                b.insert(contentsOf: other[s...], at: pos)
            }
        }
        return b
    }

    /// Runs `iterations` inputs through the whole front end (and, when valid, the optimizer,
    /// autodiff, the evaluator and the formatter).
    public func run(iterations: Int, seed: UInt64) -> Report {
        var rng = SeededGenerator(seed: seed)
        var r = Report()
        for k in 0..<iterations {
            let bytes = mutate(&rng)
            r.inputs += 1
            if let f = try? Formula.parse(SourceFile(path: "<fuzz>", bytes: bytes)) {
                r.valid += 1
                exercise(f)
            } else {
                r.diagnosed += 1
            }
            // Every 8th input also goes through the DEAP importer as a string.
            if k % 8 == 0 {
                r.deapInputs += 1
                let s = String(decoding: bytes, as: UTF8.self)
                for kind in [LossKind.binary, .multiclass, .box] { _ = try? DEAPImport.source(s, kind: kind) }
            }
        }
        return r
    }

    func exercise(_ f: Formula) {
        let c = CompiledLoss.compile(f)
        let inputs: [InputValue<Double>]
        switch f.kind {
        case .multiclass: inputs = [.vector([0.3, -2, 5]), .vector([0, 1, 0]), .scalar(0.5)]
        case .box: inputs = [.scalar(0), .scalar(0), .scalar(0)] + [1, 2, 8, 9, 0, 0, 10, 10].map { .scalar($0) }
        default: inputs = [.scalar(-1.5), .scalar(1), .scalar(0.5)]
        }
        _ = c.evaluate(inputs, as: Double.self)
        _ = c.evaluate(inputs.map { v -> InputValue<Float> in
            switch v { case .scalar(let d): return .scalar(Float(d)); case .vector(let a): return .vector(a.map(Float.init)) }
        }, as: Float.self)
        _ = HazardCheck.diagnostics(c)
        if case .success(let ast) = Parser.parse(f.file) { _ = SourcePrinter.format(ast) }
    }
}
