import Foundation
import Testing
@testable import LossDSL
@testable import LossSearch
import LossTestSupport

/// The parameter search: its space (PAP's monotone curve parameterization), the truncated
/// normal policy and its PPO update, reproducibility and resumption, the proxy task.
struct ParamSearchTests {
    @Test func theSpaceStartsAtTheFormulaAsWritten() throws {
        let f = try RankingFormula.parse(try example("pap_retinanet.loss"))
        let space = try ParamSearchSpace(f)
        // 5 curves × 4 interior points × (x, y), and reg_weight; num_topk is a top() count.
        #expect(space.dimensions.count == 41 && space.dimensions.contains(.param("reg_weight", lo: 0.41231, hi: 41.231, log: true)))
        let (params, curves) = space.decode(space.initial)
        #expect(abs(params["reg_weight"]! - 4.1231) < 1e-9)
        for c in f.curves {
            for (a, b) in zip(curves[c.name]!, c.points) { #expect(abs(a.x - b.x) < 1e-9 && abs(a.y - b.y) < 1e-9, "\(c.name)") }
        }
        #expect(throws: ParamSearchSpace.SelectionError.self) { try ParamSearchSpace(f, only: ["num_topk"]) }
        #expect(throws: ParamSearchSpace.SelectionError.self) { try ParamSearchSpace(f, only: ["H7"]) }
        let ap = try ParamSearchSpace(try RankingFormula.parse(try example("ap_loss.loss")), ranges: ["delta": (0.25, 4)])
        #expect(ap.dimensions == [.param("delta", lo: 0.25, hi: 4, log: false)] && abs(ap.decode([0.5]).params["delta"]! - 2.125) < 1e-12)
    }

    /// The written candidate: a changed value's comment ("the official default") is marked
    /// as the source's, with the source's value; an unchanged value keeps its comment as is.
    @Test func aChangedValueDoesNotKeepTheSourcesComment() throws {
        let file = SourceFile(path: "ap_loss.loss", text: try example("ap_loss.loss"))
        let ap = try ParamSearchSpace(try RankingFormula.parse(file), ranges: ["delta": (0.25, 4)])
        let changed = try #require(ap.source(file, theta: [0.5]))
        let line = try #require(changed.split(separator: "\n").first { $0.hasPrefix("param delta") })
        #expect(line == "param delta = 2.125  # searched (the source had 1: the official default)", "\(line)")
        // θ of the source's own value (delta = 1 is θ = 0.2 on [0.25, 4]): the comment stays.
        let same = try #require(ap.source(file, theta: [0.2]))
        #expect(same.contains("param delta = 1  # the official default"), "\(same)")
    }

    /// Every θ is a valid curve: monotone, ends fixed (PAP's convert_theta_coordinate).
    @Test func everyThetaIsAMonotoneCurve() throws {
        let f = try RankingFormula.parse(try example("pap_retinanet.loss"))
        let space = try ParamSearchSpace(f, only: ["H1", "I2"])
        var rng = SeededGenerator(seed: 3)
        for trial in 0..<200 {
            let theta = space.dimensions.map { _ in trial % 10 == 0 ? Double(rng.next() % 2) : Double(rng.next() >> 11) / Double(1 << 53) }
            let (_, curves) = space.decode(theta)
            for (name, pts) in curves {
                #expect(pts.first == CurvePoint(x: 0, y: 0) && pts.last == CurvePoint(x: 1, y: 1))
                #expect(Curve.validate(name: name, points: pts, span: SourceSpan(start: 0, length: 0)).isEmpty, "\(pts)")
            }
            // And it parses as the loss's curves.
            _ = try RankingFormula.parse(try example("pap_retinanet.loss"), curves: curves)
        }
        // Round trip θ -> curve -> θ away from the clamps.
        let theta = space.dimensions.indices.map { 0.2 + 0.6 * Double($0 % 7) / 7 }
        let (_, curves) = space.decode(theta)
        let back = try ParamSearchSpace(try RankingFormula.parse(try example("pap_retinanet.loss"), curves: curves), only: ["H1", "I2"])
        for (a, b) in zip(back.initial, theta) { #expect(abs(a - b) < 1e-4) }
    }

    @Test func policyMath() {
        for p in [1e-12, 1e-6, 0.01, 0.3, 0.5, 0.77, 0.999, 1 - 1e-9] {
            #expect(abs(TruncatedNormalPolicy.phi(TruncatedNormalPolicy.quantile(p)) - p) <= 1e-13 * max(1, p / (1 - p)), "\(p)")
        }
        // d log pi / d mu against a central difference, and the density integrates to 1 on [0, 1].
        for (x, mu, sigma) in [(0.3, 0.5, 0.2), (0.95, 0.1, 0.05), (0.0, 0.7, 0.3)] {
            let (_, d) = TruncatedNormalPolicy.logProb(x, mu: mu, sigma: sigma)
            let h = 1e-6
            let fd = (TruncatedNormalPolicy.logProb(x, mu: mu + h, sigma: sigma).value - TruncatedNormalPolicy.logProb(x, mu: mu - h, sigma: sigma).value) / (2 * h)
            #expect(abs(d - fd) < 1e-5 * max(1, abs(fd)))
            let n = 20000
            let integral = (0..<n).reduce(0.0) { $0 + exp(TruncatedNormalPolicy.logProb((Double($1) + 0.5) / Double(n), mu: mu, sigma: sigma).value) } / Double(n)
            #expect(abs(integral - 1) < 1e-4)
        }
        // PPO moves the mean toward the better samples, within the clip.
        var pol = TruncatedNormalPolicy(mean: [0.5, 0.5])
        var rng = SeededGenerator(seed: 9)
        let s = (0..<8).map { _ in pol.sample(using: &rng) }
        #expect(s.allSatisfy { $0.theta.allSatisfy { (0...1).contains($0) } })
        let rewards = s.map { -abs($0.theta[0] - 0.9) }  // dimension 0 rewarded near 0.9; dimension 1 indifferent
        let before = pol.mean
        pol.update(samples: s.map(\.theta), logProbs: s.map(\.logProbs), rewards: rewards, round: 0, rounds: 10)
        #expect(pol.mean[0] > before[0] + 1e-3)
        #expect(abs(pol.sigma - 0.18) < 1e-12, "sigma anneals linearly: 0.2 * 9/10")
    }

    /// A search stopped after any round and resumed from its (JSON) state is bit-identical to
    /// an uninterrupted one; the same seed gives the same search.
    @Test func searchIsReproducibleAndResumable() throws {
        let f = try RankingFormula.parse(try example("pap_retinanet.loss"))
        let space = try ParamSearchSpace(f, only: ["H2", "reg_weight"])
        func reward(_ t: [Double]) -> Double { -t.enumerated().reduce(0.0) { $0 + pow($1.element - 0.3 - 0.05 * Double($1.offset % 5), 2) } }
        for method in ParamSearch.Method.allCases {
            var one = ParamSearch.start(space, method: method, rounds: 6, samples: 5, seed: 42, fingerprint: 7, initialReward: reward(space.initial))
            var two = one
            while !one.finished { ParamSearch.runRound(&one, reward: reward) }
            for _ in 0..<3 { ParamSearch.runRound(&two, reward: reward) }
            let saved = try JSONEncoder().encode(two)
            var resumed = try JSONDecoder().decode(ParamSearchState.self, from: saved)
            #expect(resumed == two)
            while !resumed.finished { ParamSearch.runRound(&resumed, reward: reward) }
            #expect(resumed == one, "\(method)")
            #expect(one.best.reward > one.initial.reward)
            var again = ParamSearch.start(space, method: method, rounds: 6, samples: 5, seed: 42, fingerprint: 7, initialReward: reward(space.initial))
            while !again.finished { ParamSearch.runRound(&again, reward: reward) }
            #expect(again == one)
        }
    }

    @Test func proxyTaskRewardsBetterRankings() throws {
        let task = ProxyRankingTask(seed: 5, entries: 800, steps: 20)
        let ap = try RankingFormula.parse(try example("ap_loss.loss"))
        let reversed = try RankingFormula.parse(try example("ap_loss.loss").replacingOccurrences(of: "return with_gradient(mean_positive(1 - interp), update)",
                                                                                                   with: "return -with_gradient(mean_positive(1 - interp), update)"))
        let good = task.reward(ap), bad = task.reward(reversed)
        #expect(good == task.reward(ap), "deterministic")
        #expect(good > 3 * bad, "\(good) vs \(bad)")
        // COCO-style AP: a perfect ranking by quality scores 1 at every threshold its positives pass.
        #expect(ProxyRankingTask.cocoAP(scores: [3, 2, 1, 0], y: [1, 1, 0, 0], u: [1, 1, 0, 0]) == 1)
        #expect(abs(ProxyRankingTask.cocoAP(scores: [3, 2, 1, 0], y: [0, 1, 0, 1], u: [0, 1, 0, 1]) - 0.5) < 1e-12)
        // A positive with quality 0.7 is a true positive at τ = 0.5, 0.55, 0.6, 0.65, 0.7 only.
        #expect(abs(ProxyRankingTask.cocoAP(scores: [1, 0], y: [1, 0], u: [0.7, 0]) - 0.5) < 1e-12)
    }
}
