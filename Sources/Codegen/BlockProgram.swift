import LossDSL

/// A loss graph scheduled into a flat list of instructions over registers: the form the
/// closure backend compiles, one closure per instruction.
///
/// A register holds one block of values: one per sample for a scalar register, one per sample
/// and class for a class-vector register. Registers `0 ..< inputCount` are the kind's inputs
/// (`LossKind.inputs` order); the others are work registers, reused once their value is dead
/// (liveness), so a program needs few registers and a block stays in cache.
///
/// Scheduling also folds what does not depend on the data: params become constants and an
/// elementwise operator on constants is evaluated once, in the element type, with the operator
/// table's own math (so it is bit-identical with the reference evaluator computing it every time).
/// `stop_gradient(a)` is `a` itself.
public struct BlockProgram: Sendable, CustomStringConvertible {
    /// Where an instruction reads an argument or a program its output.
    public enum Operand: Hashable, Sendable {
        case register(Int)
        /// A value broadcast to every sample (and class), stored as the `Double` that converts
        /// exactly to the element type it was folded in.
        case constant(Double)
    }

    /// `dest = op(args)`, elementwise over a block (or per sample for class-axis operators).
    public struct Instruction: Sendable {
        public let op: Op
        public let args: [Operand]
        public let dest: Int
        /// For `softmax`: also write `log_softmax` of the same argument here (both need the
        /// row maximum and the sum of exps, computed once).
        public var logSoftmaxDest: Int? = nil
    }

    public let kind: LossKind
    /// The shape of each register; inputs first.
    public let registerShapes: [Shape]
    /// How many registers are the kind's inputs.
    public let inputCount: Int
    public let instructions: [Instruction]
    /// The roots, in the order they were asked for (value first, then the gradient).
    public let outputs: [Operand]

    public var registerCount: Int { registerShapes.count }

    /// The shape of an operand (constants are scalars, broadcast where needed).
    public func shape(_ operand: Operand) -> Shape {
        switch operand {
        case .register(let r): return registerShapes[r]
        case .constant: return .scalar
        }
    }

    /// The inputs the program reads.
    public var usedInputs: Set<Int> {
        var used = Set<Int>()
        for ins in instructions { for case .register(let r) in ins.args where r < inputCount { used.insert(r) } }
        for case .register(let r) in outputs where r < inputCount { used.insert(r) }
        return used
    }

    /// Schedules the nodes of `graph` that `roots` need, folding constants in `T`.
    public init<T: LossReal>(graph: Graph, roots: [NodeID], params: [Double], kind: LossKind, as _: T.Type) {
        self.kind = kind
        let inputCount = kind.inputs.count
        self.inputCount = inputCount
        var shapes = kind.inputs.map(\.shape)
        let live = graph.reachable(from: roots)

        // Pass 1: what each node is (an operand) once stop_gradient aliases are followed,
        // and the last node that reads each node (roots are read at the very end).
        var alias = [Int](0..<graph.count)
        var lastUse = [Int](repeating: -1, count: graph.count)
        for i in 0..<graph.count where live[i] {
            let n = graph.nodes[i]
            if n.op == .stopGradient { alias[i] = alias[Int(n.args[0])]; continue }
            for a in n.args { lastUse[alias[Int(a)]] = max(lastUse[alias[Int(a)]], i) }
        }
        for r in roots { lastUse[alias[Int(r)]] = Int.max }

        // softmax and log_softmax of the same argument run as one instruction.
        var softmaxOf: [NodeID: Int] = [:], logSoftmaxOf: [NodeID: Int] = [:]
        for i in 0..<graph.count where live[i] {
            let n = graph.nodes[i]
            if n.op == .softmax { softmaxOf[n.args[0]] = i }
            if n.op == .logSoftmax { logSoftmaxOf[n.args[0]] = i }
        }

        // Pass 2: emit instructions, folding constants and reusing dead work registers.
        var operand = [Operand?](repeating: nil, count: graph.count)
        var free: [Shape: [Int]] = [:]
        var code: [Instruction] = []
        func allocate(_ shape: Shape) -> Int {
            if let r = free[shape]?.popLast() { return r }
            shapes.append(shape)
            return shapes.count - 1
        }
        func release(argumentsOf i: Int) {
            var released = Set<Int>()
            for a in graph.nodes[i].args where lastUse[alias[Int(a)]] == i {
                if case .register(let r)? = operand[alias[Int(a)]], r >= inputCount, released.insert(r).inserted {
                    free[shapes[r], default: []].append(r)
                }
            }
        }
        for i in 0..<graph.count where live[i] {
            let n = graph.nodes[i]
            if operand[i] != nil {  // the second of a softmax/log_softmax pair: already computed
                release(argumentsOf: i)
                continue
            }
            switch n.op {
            case .constant: operand[i] = .constant(Double(T(n.constant)))
            case .param: operand[i] = .constant(Double(T(params[Int(n.index)])))
            case .input: operand[i] = .register(Int(n.index))
            case .stopGradient: operand[i] = operand[alias[i]]
            default:
                let args = n.args.map { operand[alias[Int($0)]] ?? .constant(.nan) }
                if n.op.shapeRule == .elementwise, let v = Self.fold(n.op, args, as: T.self) {
                    operand[i] = .constant(v)
                    continue
                }
                // The destination is taken before the arguments' registers are released, so
                // an instruction never writes a register it reads (loops vectorize without
                // an overlap check failing, and the C block functions need distinct buffers).
                if n.op == .softmax || n.op == .logSoftmax,
                   let s = softmaxOf[n.args[0]], let l = logSoftmaxOf[n.args[0]] {
                    let ds = allocate(.classVector), dl = allocate(.classVector)
                    code.append(Instruction(op: .softmax, args: args, dest: ds, logSoftmaxDest: dl))
                    operand[s] = .register(ds)
                    operand[l] = .register(dl)
                } else {
                    let dest = allocate(graph.shapes[i])
                    code.append(Instruction(op: n.op, args: args, dest: dest))
                    operand[i] = .register(dest)
                }
                release(argumentsOf: i)
            }
        }
        registerShapes = shapes
        instructions = code
        outputs = roots.map { operand[alias[Int($0)]] ?? .constant(.nan) }
    }

    /// The value of an elementwise operator on constants, computed in `T`.
    private static func fold<T: LossReal>(_ op: Op, _ args: [Operand], as _: T.Type) -> Double? {
        var v: [T] = []
        for a in args {
            guard case .constant(let c) = a else { return nil }
            v.append(T(c))
        }
        return Double(op.apply(v[0], v.count > 1 ? v[1] : 0, v.count > 2 ? v[2] : 0))
    }

    /// One line per instruction, for `dump`-style inspection and test failure messages.
    public var description: String {
        func name(_ o: Operand) -> String {
            switch o {
            case .register(let r) where r < inputCount: return kind.inputs[r].name
            case .register(let r): return "r\(r)"
            case .constant(let c): return "\(c)"
            }
        }
        var s = "; \(kind.rawValue) program: \(instructions.count) instructions, \(registerCount - inputCount) work registers\n"
        for ins in instructions {
            let shape = registerShapes[ins.dest] == .classVector ? " : class" : ""
            let pair = ins.logSoftmaxDest.map { ", r\($0) = log_softmax" } ?? ""
            s += "r\(ins.dest) = \(ins.op.name) " + ins.args.map(name).joined(separator: ", ") + shape + pair + "\n"
        }
        s += "outputs: " + outputs.map(name).joined(separator: ", ") + "\n"
        return s
    }
}
