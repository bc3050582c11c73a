/// The syntax tree of a `.loss` file, as written (before names are resolved).
public struct LossFile: Sendable {
    /// Comment lines before the header, kept so `fmt` can print them back.
    public var leadingComments: [String] = []
    public var name: String = ""
    public var nameSpan = SourceSpan(start: 0, length: 0)
    public var kind: LossKind = .binary
    public var kindSpan = SourceSpan(start: 0, length: 0)
    public var headerComment: String?
    public var statements: [Statement] = []
    /// Comment lines after the last statement.
    public var trailingComments: [String] = []
}

/// One line of the body: `param`, `curve`, `let` or `return`.
public struct Statement: Sendable {
    public enum Body: Sendable {
        case param(Double)
        /// `curve NAME = (x, y), (x, y), ...`: a monotone piecewise-linear function.
        case curve([CurvePoint])
        case binding(Expr)
        case result(Expr)
    }
    public var body: Body
    /// The bound name (`param`, `curve`, `let`); empty for `return`.
    public var name: String
    public var nameSpan: SourceSpan
    public var keywordSpan: SourceSpan
    public var leadingComments: [String] = []
    public var trailingComment: String?
    /// Whether a blank line preceded it (kept by `fmt`).
    public var blankBefore = false
}

/// An expression in postfix order (operands before their operator), as the shunting-yard
/// parser produces it. Flat, so no pass over it recurses and deep nesting cannot overflow
/// the stack.
public struct Expr: Sendable {
    public var items: [ExprItem] = []
    public var span: SourceSpan = SourceSpan(start: 0, length: 0)
}

public enum ExprItem: Sendable {
    case number(Double, SourceSpan)
    case name(String, SourceSpan)
    /// Unary minus.
    case negate(SourceSpan)
    case binary(BinaryOperator, SourceSpan)
    /// A call with `argc` arguments; spans of the callee name and of the closing parenthesis.
    case call(String, argc: Int, nameSpan: SourceSpan, close: SourceSpan)
}

/// The infix operators, with their precedence (higher binds tighter) and associativity.
public enum BinaryOperator: String, Sendable, CaseIterable {
    case add = "+", sub = "-", mul = "*", div = "/", pow = "^"

    public var precedence: Int {
        switch self {
        case .add, .sub: return 1
        case .mul, .div: return 2
        case .pow: return 4
        }
    }
    public var rightAssociative: Bool { self == .pow }
    /// The graph operator it lowers to.
    public var op: Op {
        switch self {
        case .add: return .add
        case .sub: return .sub
        case .mul: return .mul
        case .div: return .div
        case .pow: return .pow
        }
    }
}

/// Unary minus binds tighter than * and looser than ^, so -a^2 is -(a^2).
let unaryMinusPrecedence = 3

/// One control point of a `curve` statement, with the span of its `(x, y)` text.
public struct CurvePoint: Sendable, Equatable {
    /// The point, and where it is written (empty for points made by the API).
    public var x: Double
    public var y: Double
    public var span: SourceSpan
    /// A point; the span defaults to empty.
    public init(x: Double, y: Double, span: SourceSpan = SourceSpan(start: 0, length: 0)) {
        self.x = x; self.y = y; self.span = span
    }
}
