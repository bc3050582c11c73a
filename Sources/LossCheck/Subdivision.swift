import Foundation
import LossDSL

/// One variable of a proof region: a name for messages, its range, and how it is split: at the
/// arithmetic mean, or (for areas spanning many decades) at the geometric mean of v + offset.
public struct ProofVariable: Sendable {
    /// The name printed in open regions.
    public let name: String
    /// The range the proof covers.
    public let range: ClosedRange<Double>
    /// Split in log(v + offset) rather than v; nil for a linear split.
    public let logOffset: Double?

    /// A variable over `range`, split in log(v + logOffset) when an offset is given.
    public init(_ name: String, _ range: ClosedRange<Double>, logOffset: Double? = nil) {
        self.name = name; self.range = range
        self.logOffset = logOffset.flatMap { range.lowerBound + $0 > 0 ? $0 : nil }
    }

    /// The width of `v` relative to the whole range, in the measure the variable is split in.
    func relativeWidth(_ v: Interval) -> Double {
        if range.upperBound == range.lowerBound { return 0 }
        if let c = logOffset {
            return Foundation.log((v.hi + c) / (v.lo + c)) / Foundation.log((range.upperBound + c) / (range.lowerBound + c))
        }
        return v.width / (range.upperBound - range.lowerBound)
    }

    func split(_ v: Interval) -> Double {
        if let c = logOffset { return ((v.lo + c) * (v.hi + c)).squareRoot() - c }
        return v.lo + (v.hi - v.lo) / 2
    }
}

/// What a proof learns about one box.
public enum BoxOutcome: Sendable, Equatable {
    /// The property holds on the whole box (a sound interval bound shows it).
    case holds
    /// The bound shows it fails on the whole box (a concrete point will be asked to confirm).
    case fails
    /// Neither: split the box.
    case open
}

/// The result of a subdivision proof.
public enum SubdivisionResult<Evidence: Sendable>: Sendable {
    /// Every leaf box of a subdivision covering the region was shown to hold.
    case proved(boxes: Int)
    /// A concrete point violates the property.
    case refuted(Evidence)
    /// The budget ran out, or boxes got too small to split: these stayed open.
    case undecided(open: [[Interval]], boxes: Int)
}

/// Branch and bound over a box of variables: bound the property on a box; if it holds, done;
/// otherwise bisect the widest variable and recurse, until every leaf holds (proved), a
/// concrete point fails (refuted), or the budget is spent (undecided, with the open boxes).
public enum Subdivision {
    /// - Parameters:
    ///   - budget: the most boxes bounded.
    ///   - minWidth: boxes narrower than this (relative to the region, in every variable) are
    ///     not split further; they stay open.
    ///   - test: bounds the property over a box.
    ///   - probe: evaluates a concrete point (a box's midpoint, where a test says `fails` or a box
    ///     cannot be split) and returns evidence if the property fails there.
    public static func run<E: Sendable>(_ vars: [ProofVariable], budget: Int, minWidth: Double = 1e-9,
                                        test: ([Interval]) -> BoxOutcome,
                                        probe: ([Double]) -> E?) -> SubdivisionResult<E> {
        var stack: [[Interval]] = [vars.map { Interval($0.range.lowerBound, $0.range.upperBound) }]
        var open: [[Interval]] = []
        var boxes = 0
        while let box = stack.popLast() {
            if boxes >= budget { open.append(box); continue }
            boxes += 1
            let outcome = test(box)
            if case .holds = outcome { continue }
            // Pick the widest variable (in its own measure).
            var widest = 0, w = -1.0
            for (k, v) in vars.enumerated() {
                let r = v.relativeWidth(box[k])
                if r > w { w = r; widest = k }
            }
            var m = vars[widest].split(box[widest])
            if !(m > box[widest].lo && m < box[widest].hi) { m = box[widest].mid }
            // Adjacent doubles cannot be split.
            let tooSmall = w <= minWidth || !(m > box[widest].lo && m < box[widest].hi)
            var fails = false
            if case .fails = outcome { fails = true }
            if fails || tooSmall, let e = probe(box.map { $0.mid }) { return .refuted(e) }
            if tooSmall { open.append(box); continue }
            var left = box, right = box
            left[widest].hi = m
            right[widest].lo = m
            // Depth first, left half first (pushed last).
            stack.append(right)
            stack.append(left)
        }
        return open.isEmpty ? .proved(boxes: boxes) : .undecided(open: open, boxes: boxes)
    }

    /// A short description of open boxes: the hull of the first few, and how many there are.
    public static func describe(_ open: [[Interval]], _ vars: [ProofVariable]) -> String {
        guard var hull = open.first else { return "" }
        for b in open.dropFirst() { for k in hull.indices { hull[k] = hull[k].hull(b[k]) } }
        let parts = vars.indices.compactMap { k -> String? in
            vars[k].range.lowerBound == vars[k].range.upperBound ? nil : "\(vars[k].name) ∈ \(hull[k])"
        }
        return parts.joined(separator: ", ") + (open.count > 1 ? " (\(open.count) boxes)" : "")
    }
}
