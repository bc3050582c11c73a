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
        let pending = sample(state)
        finish(&state, pending, rewards: pending.thetas.map(reward))
    }

    /// The first half of a round (what `search-params ask` stores): the round's candidates,
    /// drawn from the policy, and the generator state after drawing them. The state is unchanged.
    public static func sample(_ state: ParamSearchState) -> ParamSearchState.PendingRound {
        var rng = SeededGenerator(seed: 0)
        rng.state = state.rng
        let policy = TruncatedNormalPolicy(meanLogit: state.meanLogit.map(Double.init(bitPattern:)), sigma: Double(bitPattern: state.sigma))
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
        return ParamSearchState.PendingRound(round: state.round, thetas: thetas, logProbs: logProbs, rngAfter: rng.state)
    }

    /// The second half: the rewards of `pending`'s candidates (in order; `errors[i]` notes a
    /// candidate whose evaluation failed, scored 0), the policy update, the round recorded.
    public static func finish(_ state: inout ParamSearchState, _ pending: ParamSearchState.PendingRound,
                              rewards: [Double], errors: [String?]? = nil) {
        let thetas = pending.thetas
        var policy = TruncatedNormalPolicy(meanLogit: state.meanLogit.map(Double.init(bitPattern:)), sigma: Double(bitPattern: state.sigma))
        if state.method == .ppo {
            policy.update(samples: thetas, logProbs: pending.logProbs, rewards: rewards, round: state.round, rounds: state.rounds)
        }
        state.history.append(thetas.indices.map {
            ParamSearchState.Sample(thetas[$0], reward: rewards[$0], round: state.round + 1, error: errors?[$0] ?? nil)
        })
        state.round += 1
        state.rng = pending.rngAfter
        state.meanLogit = policy.meanLogit.map(\.bitPattern)
        state.sigma = policy.sigma.bitPattern
        state.pending = nil
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
        /// Why its evaluation failed (an external evaluator's error; the reward is then 0).
        public var error: String?
        /// Records θ exactly and readably.
        public init(_ theta: [Double], reward: Double, round: Int, error: String? = nil) {
            bits = theta.map(\.bitPattern); self.theta = theta; self.reward = reward; self.round = round; self.error = error
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

    /// A round whose candidates were handed out by `search-params ask` and await their rewards.
    public struct PendingRound: Codable, Sendable, Equatable {
        /// The round being evaluated (rounds completed so far).
        public var round: Int
        /// The candidates and the policy's log-probabilities of them, as exact bit patterns.
        public var bits: [[UInt64]]
        public var logProbBits: [[UInt64]]
        /// The random generator's state after drawing them.
        public var rngAfter: UInt64
        /// Rewards told so far, by candidate index (nil: not yet), with the error of a failed
        /// evaluation (whose reward is 0).
        public var rewards: [Double?]
        public var errors: [String?]
        /// Whether the formula as written is evaluated with this round (the first round of an
        /// ask/tell search: its reward comes from the same evaluator as the candidates'), and its
        /// reward once told.
        public var measuresInitial = false
        public var initialReward: Double?
        public var initialError: String?

        public init(round: Int, thetas: [[Double]], logProbs: [[Double]], rngAfter: UInt64) {
            self.round = round; self.rngAfter = rngAfter
            bits = thetas.map { $0.map(\.bitPattern) }
            logProbBits = logProbs.map { $0.map(\.bitPattern) }
            rewards = Array(repeating: nil, count: thetas.count)
            errors = Array(repeating: nil, count: thetas.count)
        }
        public var thetas: [[Double]] { bits.map { $0.map(Double.init(bitPattern:)) } }
        public var logProbs: [[Double]] { logProbBits.map { $0.map(Double.init(bitPattern:)) } }
    }

    /// A round handed out by `search-params ask`, not yet complete (nil otherwise).
    public var pending: PendingRound?

    /// The best candidate so far (the initial formula if nothing beat it).
    public var best: Sample {
        history.joined().reduce(initial) { $1.reward > $0.reward ? $1 : $0 }
    }

    /// Whether every round has run.
    public var finished: Bool { round >= rounds }

    /// What is impossible in this state (an edited or damaged checkpoint), or nil. A resumed
    /// search (and any ask/tell over this state) must refuse such a file rather than trap or run on.
    public func inconsistency() -> String? {
        guard version == 1 else { return "format version \(version); this lossc reads version 1" }
        guard rounds > 0, samples > 0 else { return "rounds and samples must be positive (rounds \(rounds), samples \(samples))" }
        guard round >= 0, round <= rounds else { return "round \(round) outside 0...\(rounds)" }
        guard history.count == round else { return "\(history.count) rounds of history for round \(round)" }
        let d = dimensions.count
        guard d > 0, meanLogit.count == d else { return "\(meanLogit.count) policy means for \(d) dimensions" }
        let sig = Double(bitPattern: sigma)
        guard sig.isFinite, sig > 0, meanLogit.allSatisfy({ Double(bitPattern: $0).isFinite }) else { return "the policy is not finite" }
        for (i, row) in history.enumerated() {
            guard row.count == samples else { return "round \(i + 1) has \(row.count) samples, not \(samples)" }
        }
        for s in [initial] + history.joined() {
            guard s.bits.count == d, s.theta.count == d else { return "a sample has \(s.bits.count) values for \(d) dimensions" }
            guard s.reward.isFinite, s.round >= 0, s.round <= round else { return "a sample has reward \(s.reward) in round \(s.round)" }
        }
        return nil
    }
}

/// FNV-1a, for fingerprints of files and settings.
public func fnv1a(_ bytes: [UInt8], seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
    var h = seed
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return h
}
