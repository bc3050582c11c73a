import LossDSL

/// A named input value of a counterexample, e.g. `x = 2.5`.
public struct NamedValue: Sendable, Equatable {
    /// The input's name (`x`, `x1`, `C`, …).
    public let name: String
    /// Its value.
    public let value: Double
    /// A named value.
    public init(_ name: String, _ value: Double) { self.name = name; self.value = value }
}

/// A concrete input at which a property fails, evaluated in Double with the reference
/// semantics, and what was observed there.
public struct Counterexample: Sendable, CustomStringConvertible {
    /// The inputs, in the kind's terms (`x`, `y`, `w`; box coordinates; `C` for class counts).
    public let inputs: [NamedValue]
    /// What went wrong there, with the numbers: "dL/dx = 0.12 > 0; L rises from … to …".
    public let observation: String

    /// A counterexample at `inputs`, with what was observed there.
    public init(_ inputs: [NamedValue], _ observation: String) {
        self.inputs = inputs; self.observation = observation
    }

    /// "x = 2, y = 1, w = 1: observation".
    public var description: String {
        inputs.map { "\($0.name) = \(shortNumber($0.value))" }.joined(separator: ", ") + ": " + observation
    }
}

/// What a convergence property check concluded.
public enum Verdict: Sendable {
    /// Interval arithmetic showed it on the whole region (sampling alone never proves).
    case proved(evidence: String)
    /// A concrete input violates it.
    case refuted(Counterexample)
    /// Neither: the part of the region that stayed open, and why.
    case undecided(open: String)

    /// True for `refuted`.
    public var isRefuted: Bool { if case .refuted = self { return true }; return false }
    /// True for `proved`.
    public var isProved: Bool { if case .proved = self { return true }; return false }

    /// "proved", "refuted" or "undecided".
    public var word: String {
        switch self {
        case .proved: return "proved"
        case .refuted: return "refuted"
        case .undecided: return "undecided"
        }
    }
}

/// One convergence property of a loss and the verdict on it.
public struct PropertyResult: Sendable {
    /// Stable identifier, e.g. `binary.positive-decreasing` (README lists them all).
    public let id: String
    /// What the property says, in one line.
    public let title: String
    /// The region it was checked on, e.g. "x ∈ [-15, 15], y = 1, w = 1".
    public let region: String
    /// Proved, refuted or undecided.
    public let verdict: Verdict

    /// A property's result.
    public init(id: String, title: String, region: String, verdict: Verdict) {
        self.id = id; self.title = title; self.region = region; self.verdict = verdict
    }

    /// One line: the verdict's evidence, counterexample or open region.
    public var detail: String {
        switch verdict {
        case .proved(let e): return e
        case .refuted(let c): return "counterexample: \(c)"
        case .undecided(let o): return o
        }
    }
}

/// How much work stage 1 may spend on one candidate.
public struct Stage1Budget: Sendable {
    /// Scales the number of sample points (1 = the documented sets).
    public var sampleScale: Double
    /// The most interval boxes one property's proof may bound (0: sampling only).
    public var proofBoxes: Int
    /// Stop at the first refuted property (the search's fast path); later properties are
    /// not reported.
    public var stopAtFirstRefutation: Bool

    /// A budget; the defaults are `thorough`'s.
    public init(sampleScale: Double = 1, proofBoxes: Int = 4000, stopAtFirstRefutation: Bool = false) {
        self.sampleScale = sampleScale; self.proofBoxes = proofBoxes; self.stopAtFirstRefutation = stopAtFirstRefutation
    }

    /// `lossc check`: every property, full samples, proofs up to 4000 boxes each.
    public static let thorough = Stage1Budget()
    /// The search: stop at the first refutation, fewer samples, short proofs.
    public static let search = Stage1Budget(sampleScale: 0.5, proofBoxes: 200, stopAtFirstRefutation: true)
}

/// One property of a kind: what it says, where, and how to prove it (nil: sampling only).
struct PropertySpec<Probe: Sendable>: Sendable {
    let id: String, title: String, region: String
    let prove: (@Sendable (Probe, Int) -> Verdict)?
}

extension ConvergenceCheck {
    /// Turns sampled counterexamples into results, proving the properties sampling did not
    /// refute. In the search's fast path, a refutation is returned alone, before any proof.
    static func conclude<P>(_ specs: [PropertySpec<P>], _ probe: P, refuted: [String: Counterexample],
                            budget: Stage1Budget, sampledOnly: String) -> [PropertyResult] {
        if budget.stopAtFirstRefutation, let s = specs.first(where: { refuted[$0.id] != nil }), let c = refuted[s.id] {
            return [PropertyResult(id: s.id, title: s.title, region: s.region, verdict: .refuted(c))]
        }
        var results: [PropertyResult] = []
        for spec in specs {
            let verdict: Verdict
            if let c = refuted[spec.id] { verdict = .refuted(c) } else if let prove = spec.prove, budget.proofBoxes > 0 {
                verdict = prove(probe, budget.proofBoxes)
            } else if spec.prove != nil {
                verdict = .undecided(open: "not proved (sampling only): no counterexample among the samples")
            } else {
                verdict = .undecided(open: sampledOnly)
            }
            results.append(PropertyResult(id: spec.id, title: spec.title, region: spec.region, verdict: verdict))
            if budget.stopAtFirstRefutation, verdict.isRefuted { return results }
        }
        return results
    }
}

/// "1 box", "37 boxes".
func boxCount(_ n: Int) -> String { n == 1 ? "1 box" : "\(n) boxes" }
