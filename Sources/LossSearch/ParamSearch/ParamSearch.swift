import LossDSL

/// The parameter search of ranking losses (`lossc search-params`): rounds of `samples`
/// candidates drawn from a policy over the `ParamSearchSpace`, each scored by a reward (the
/// proxy task), then a policy update. Methods:
/// - `.ppo`: PAP's truncated-normal policy with clipped PPO (`TruncatedNormalPolicy`), as the
///   paper's released search does;
/// - `.random`: uniform samples in [0, 1]^D, the baseline at equal budget.
///
/// The whole state (policy, random generator, history) is in `ParamSearchState`, stored with
/// exact bit patterns, so a search stopped after any round and resumed from its checkpoint
/// gives bit-identical results to an uninterrupted one.
public enum ParamSearch {
    /// How candidates are drawn.
    public enum Method: String, Sendable, Codable, CaseIterable { case ppo, random }

    /// A new search at the formula as written (its reward `initialReward`), nothing run yet.
    public static func start(_ space: ParamSearchSpace, method: Method, rounds: Int, samples: Int, seed: UInt64,
                             fingerprint: UInt64, initialReward: Double) -> ParamSearchState {
        let policy = TruncatedNormalPolicy(mean: space.initial)
        return ParamSearchState(method: method, dimensions: space.dimensions.map(\.name), rounds: rounds, samples: samples,
                                seed: seed, fingerprint: fingerprint, round: 0, rng: SeededGenerator(seed: seed).state,
                                meanLogit: policy.meanLogit.map(\.bitPattern), sigma: policy.sigma.bitPattern,
                                initial: ParamSearchState.Sample(space.initial, reward: initialReward, round: 0), history: [])
    }

    /// Runs the next round: samples, evaluates each with `reward`, updates the policy.
    public static func runRound(_ state: inout ParamSearchState, reward: ([Double]) -> Double) {
        var rng = SeededGenerator(seed: 0)
        rng.state = state.rng
        var policy = TruncatedNormalPolicy(meanLogit: state.meanLogit.map(Double.init(bitPattern:)), sigma: Double(bitPattern: state.sigma))
        var thetas: [[Double]] = [], logProbs: [[Double]] = []
        for _ in 0..<state.samples {
            switch state.method {
            case .ppo:
                let (t, lp) = policy.sample(using: &rng)
                thetas.append(t); logProbs.append(lp)
            case .random:
                thetas.append(state.dimensions.map { _ in Double(rng.next() >> 11) / Double(1 << 53) })
            }
        }
        let rewards = thetas.map(reward)
        if state.method == .ppo {
            policy.update(samples: thetas, logProbs: logProbs, rewards: rewards, round: state.round, rounds: state.rounds)
        }
        state.history.append(zip(thetas, rewards).map { ParamSearchState.Sample($0, reward: $1, round: state.round + 1) })
        state.round += 1
        state.rng = rng.state
        state.meanLogit = policy.meanLogit.map(\.bitPattern)
        state.sigma = policy.sigma.bitPattern
    }
}

/// Everything a parameter search needs to go on: written to the checkpoint after each round.
public struct ParamSearchState: Codable, Sendable, Equatable {
    /// One evaluated candidate.
    public struct Sample: Codable, Sendable, Equatable {
        /// θ as exact bit patterns, and readable.
        public var bits: [UInt64]
        public var theta: [Double]
        /// The proxy task's reward.
        public var reward: Double
        /// The round it was drawn in (0: the formula as written).
        public var round: Int
        /// Records θ exactly and readably.
        public init(_ theta: [Double], reward: Double, round: Int) {
            bits = theta.map(\.bitPattern); self.theta = theta; self.reward = reward; self.round = round
        }
        /// θ from the exact bit patterns.
        public var exactTheta: [Double] { bits.map(Double.init(bitPattern:)) }
    }

    /// The checkpoint format.
    public var version = 1
    public var method: ParamSearch.Method
    /// Names of the search dimensions (a resumed search must have the same).
    public var dimensions: [String]
    /// Rounds in all, candidates per round, and the seed of the sampling.
    public var rounds: Int
    public var samples: Int
    public var seed: UInt64
    /// A hash of the loss file and the task settings (a resumed search must have the same).
    public var fingerprint: UInt64
    /// Rounds completed.
    public var round: Int
    /// The random generator's state and the policy's, as bit patterns.
    public var rng: UInt64
    public var meanLogit: [UInt64]
    public var sigma: UInt64
    /// The formula as written.
    public var initial: Sample
    /// Every candidate, round by round.
    public var history: [[Sample]]

    /// The best candidate so far (the initial formula if nothing beat it).
    public var best: Sample {
        history.joined().reduce(initial) { $1.reward > $0.reward ? $1 : $0 }
    }

    /// Whether every round has run.
    public var finished: Bool { round >= rounds }
}

/// FNV-1a, for fingerprints of files and settings.
public func fnv1a(_ bytes: [UInt8], seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
    var h = seed
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return h
}
