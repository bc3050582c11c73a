import Codegen
import Foundation
import LossDSL

/// lossc-train: trains a small linear detection head on a generated, imbalanced anchor set
/// with any `.loss` file, through `LossKernel` (the compiled loss's value and gradient), and
/// prints the held-out AP (classification losses) or mean IoU (box losses) after each epoch.
let usage = """
    USAGE: lossc-train --loss FILE [--param NAME=VALUE]... [--epochs N] [--lr RATE] [--seed N]
                       [--train N] [--test N]

    Trains a linear head on a generated detection-like anchor set (1.5% objects, hard and
    easy negatives) with the loss in FILE and prints the held-out AP per epoch (binary and
    multiclass losses; multiclass uses 2 classes, background and object) or the held-out
    mean IoU (box losses). Every loss gets the same data, initialization and optimizer
    (Adam; the learning rate drops 10x after 2/3 and again after 8/9 of the epochs, the step
    schedule of detectors).

    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("lossc-train: error: \(message)\n".utf8))
    exit(2)
}

var settings = Settings()
var lossPath: String?
var params: [String: Double] = [:]
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    if a == "--help" || a == "-h" { print(usage, terminator: ""); exit(0) }
    guard let value = args.first, a.hasPrefix("--") else { fail("unexpected argument '\(a)'\n\(usage)") }
    args.removeFirst()
    func number<N: LosslessStringConvertible>(_: N.Type) -> N {
        guard let n = N(value) else { fail("\(a): '\(value)' is not a valid number") }
        return n
    }
    switch a {
    case "--loss": lossPath = value
    case "--param":
        let kv = value.split(separator: "=", maxSplits: 1).map(String.init)
        guard kv.count == 2, let v = Double(kv[1]), v.isFinite else { fail("--param expects NAME=VALUE, got '\(value)'") }
        params[kv[0]] = v
    case "--epochs": settings.epochs = max(1, number(Int.self))
    case "--lr": settings.rate = number(Float.self)
    case "--seed": settings.seed = number(UInt64.self)
    case "--train": settings.trainCount = max(1, number(Int.self))
    case "--test": settings.testCount = max(1, number(Int.self))
    default: fail("unknown option '\(a)'\n\(usage)")
    }
}
guard let lossPath else { fail("missing --loss FILE\n\(usage)") }

let kernel: LossKernel<Float>
do {
    kernel = try LossKernel<Float>(file: lossPath, params: params)
} catch let e as DiagnosticError {
    FileHandle.standardError.write(Data(e.render().utf8))
    exit(2)
} catch {
    fail("\(error)")
}

// The docs test checks the command line (and that the loss compiles) without the training run.
if ProcessInfo.processInfo.environment["LOSSC_ARGS_ONLY"] == "1" { exit(0) }
let formula = kernel.loss.formula
let paramText = formula.params.map { "\($0.name) = \($0.value)" }.joined(separator: ", ")
print("lossc-train: \(formula.name) (\(kernel.kind.rawValue))" + (paramText.isEmpty ? "" : ", \(paramText)"))
let trainSet = AnchorSet(count: settings.trainCount, seed: settings.seed)
let testSet = AnchorSet(count: settings.testCount, seed: settings.seed &+ 1000)
func objects(_ d: AnchorSet) -> Int { Int(d.labels.reduce(0, +)) }
print("data: \(trainSet.count) training anchors (\(objects(trainSet)) objects), \(testSet.count) held-out (\(objects(testSet)) objects); "
      + "Adam, learning rate \(settings.rate) (x0.1 after 2/3 and 8/9 of the epochs), batch \(settings.batch)")

/// Trains and prints one line per epoch.
func train(_ kernel: LossKernel<Float>, _ train: AnchorSet, _ test: AnchorSet, _ settings: Settings) throws {
    var rng = Random(seed: settings.seed &+ 7)
    var order = Array(0..<train.count)
    func shuffle() {
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
    }
    switch kernel.kind {
    case .binary, .multiclass:
        var model = Classifier(classes: kernel.kind == .binary ? 1 : 2)
        var opt = Adam(count: model.params.count, rate: settings.rate)
        print("epoch  train loss  held-out AP")
        for e in 1...settings.epochs {
            shuffle()
            opt.rate = settings.rate(epoch: e)
            let loss = try model.epoch(kernel, train, order, &opt, settings)
            let ap = averagePrecision(scores: model.scores(test), labels: test.labels)
            print(String(format: "%5d  %10.4f  %.4f", e, loss, ap))
        }
    case .box:
        var model = BoxRegressor()
        var opt = Adam(count: model.params.count, rate: settings.rate)
        print("epoch  train loss  held-out mean IoU")
        for e in 1...settings.epochs {
            shuffle()
            opt.rate = settings.rate(epoch: e)
            let loss = try model.epoch(kernel, train, order, &opt, settings)
            print(String(format: "%5d  %10.4f  %.4f", e, loss, model.meanIoU(test)))
        }
    case .ranking:
        fail("ranking losses are not supported by the closure backend yet")
    }
}

do { try train(kernel, trainSet, testSet, settings) } catch { fail("\(error)") }
