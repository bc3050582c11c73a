import LossDSL

/// The whole `lossc check`: the static checks (syntax, shapes, hazards), then stage 1
/// (convergence properties) and stage 2 (model optimization simulation).
public enum CheckPipeline {
    /// Which convergence stages to run.
    public enum Stages: String, Sendable {
        case one = "1", two = "2", all
        var runsOne: Bool { self != .two }
        var runsTwo: Bool { self != .one }
    }

    /// Everything a check found: the report (one section per static check and per property,
    /// and one for the simulation), and the structured results behind it.
    public struct Outcome: Sendable {
        /// The sections `lossc check` prints.
        public var report: CheckReport
        /// Stage 1's results (empty when it did not run).
        public var properties: [PropertyResult] = []
        /// Stage 2's result, when it ran.
        public var simulation: SimulationResult?
        /// Why stage 2 did not run, when it was asked for and did not.
        public var simulationSkipped: String?
        /// The proxy task's description, when stage 2 ran.
        public var task: String?
    }

    /// Runs the checks. Stage 2 runs only if stage 1 refuted nothing (as in the search),
    /// unless stage 2 alone is asked for.
    public static func run(_ loss: CompiledLoss, stages: Stages = .all, budget: Stage1Budget = .thorough,
                           seed: UInt64 = 1) -> Outcome {
        var out = Outcome(report: CheckReport.staticChecks(loss))
        guard loss.kind.isSupported else { return out }
        if stages.runsOne {
            out.properties = ConvergenceCheck.stage1(loss, budget: budget)
            for p in out.properties {
                let status: CheckReport.Status
                switch p.verdict {
                case .proved: status = .passed
                case .refuted: status = .failed
                case .undecided: status = .warning
                }
                out.report.sections.append(CheckReport.Section(name: p.id, status: status, details: [p.region, p.detail]))
            }
        }
        guard stages.runsTwo else { return out }
        if stages.runsOne, !ConvergenceCheck.passes(out.properties) {
            out.simulationSkipped = "not run: stage 1 refuted a property"
            out.report.sections.append(CheckReport.Section(name: "model optimization simulation", status: .skipped,
                                                           details: [out.simulationSkipped ?? ""]))
            return out
        }
        guard let task = ProxyTask(kind: loss.kind, seed: seed) else { return out }
        let r = Simulation.stage2(loss, task: task)
        out.simulation = r
        out.task = task.description
        out.report.sections.append(CheckReport.Section(name: "model optimization simulation", status: r.passed ? .passed : .failed,
                                                       details: [task.description, r.summary]))
        return out
    }
}

extension ProxyTask: CustomStringConvertible {
    /// The task in one line, e.g. "linear classifier on 800 samples, 1 positive in 40, 60 Adam steps, seed 1".
    public var description: String {
        switch trainer {
        case .binary:
            return "linear classifier, \(BinaryProxy.trainCount) training samples (1 positive in \(BinaryProxy.positiveEvery)), \(BinaryProxy.steps) Adam steps, AP on \(BinaryProxy.testCount) held out, seed \(seed)"
        case .multiclass:
            return "softmax regression, \(MulticlassProxy.classes) classes, \(MulticlassProxy.trainCount) training samples, \(MulticlassProxy.steps) Adam steps, accuracy on \(MulticlassProxy.testCount) held out, seed \(seed)"
        case .box:
            return "linear box-offset regressor, \(BoxProxy.trainCount) anchor/target pairs, \(BoxProxy.steps) Adam steps, mean IoU on \(BoxProxy.testCount) held out, seed \(seed)"
        }
    }
}
