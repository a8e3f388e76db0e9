/// How a clause takes part in its group.
public enum Occur: Sendable, Hashable {
    /// The clause has to match: `+x`, or either side of `AND`.
    case must
    /// The clause is one alternative of several: either side of `OR`.
    case should
    /// The clause must not match: `-x`, `NOT x`.
    case mustNot
    /// Written next to its neighbours without an operator. The query string does not say how
    /// such clauses combine; the searcher decides (all-terms-ranked-first, `--and`, `--or`).
    case defaultOperator
}

/// The days a `date:` clause covers, as `yyyy-mm-dd` strings already expanded to whole days:
/// `date:2020-03` is `2020-03-01` to `2020-03-31`.
public struct DateRange: Sendable, Hashable {
    /// The first day covered (inclusive), or nil when the range has no lower end.
    public var from: String?
    /// The last day covered (inclusive), or nil when the range has no upper end.
    public var to: String?

    /// A range from `from` to `to`, both inclusive; nil leaves that end open.
    public init(from: String?, to: String?) {
        self.from = from
        self.to = to
    }
}

/// The syntax tree of a query string.
///
/// Texts are as the user wrote them: the analyzer, not the parser, folds case and splits
/// punctuation. A `field` of nil means the field was not named (search every text field).
public indirect enum QueryExpression: Sendable, Hashable {
    /// A single word: `Sanktionen`, `title:Gipfel`, `source:zeit.de`.
    case word(String, field: String?)
    /// A quoted phrase, its raw text between the quotes. `slop` is how many word moves the
    /// phrase tolerates: `"Kim Jong Un"` has 0, `"Trump Kim"~5` has 5.
    case phrase(String, slop: Int, field: String?)
    /// Words starting with the text before the `*`: `Sanktion*`.
    case prefix(String, field: String?)
    /// Words within `maxEdits` edits (0...2) of the text before the `~`: `Pjöngjang~1`;
    /// a bare `~` means 2.
    case fuzzy(String, maxEdits: Int, field: String?)
    /// Documents dated within the range: `date:2020-03`, `date:>=2020-03-01`.
    case dateRange(DateRange)
    /// The whole query, and each parenthesized group.
    case group([QueryClause])
}

/// One member of a group: an expression and how it takes part.
public struct QueryClause: Sendable, Hashable {
    /// How the expression takes part in its group.
    public var occur: Occur
    /// The clause's expression.
    public var expression: QueryExpression

    /// A clause taking part in its group as `occur` says.
    public init(occur: Occur, expression: QueryExpression) {
        self.occur = occur
        self.expression = expression
    }
}

/// The query language: words, `"phrases"~N`, `prefix*`, `fuzzy~N`, `field:value`, `date:` ranges,
/// `AND`, `OR`, `NOT`, `+`, `-` and parentheses, in Lucene's spelling.
public enum QuerySyntax {
    /// Fields a query may name. `date` takes ranges; `title`, `body` and `source` take words, phrases, prefixes, fuzzy terms.
    public static let fields: Set<String> = ["title", "body", "source", "date"]

    /// Deepest parenthesis nesting accepted. The parser recurses once per level, so without a
    /// limit a long run of `(` would overflow the stack.
    public static let maximumDepth = 32

    /// Parses `text` into a tree whose top is always a `.group`.
    ///
    /// Throws `KidxError.badQuery` with a one-line message naming the 1-based character position
    /// of the problem, e.g. "unbalanced parenthesis: '(' at character 7 is never closed".
    public static func parse(_ text: String) throws -> QueryExpression {
        guard !text.allSatisfy(\.isWhitespace) else { throw KidxError.badQuery("the query is empty") }
        var parser = QueryParser(text)
        return try parser.parseQuery()
    }
}

// MARK: - Tokens

/// A word-like piece of the query, before a field is attached.
private enum QueryTerm {
    case word(String)
    case phrase(String, slop: Int)
    case prefix(String)
    case fuzzy(String, maxEdits: Int)
    case dateRange(DateRange)

    func expression(field: String?) -> QueryExpression {
        switch self {
        case .word(let text): return .word(text, field: field)
        case .phrase(let text, let slop): return .phrase(text, slop: slop, field: field)
        case .prefix(let text): return .prefix(text, field: field)
        case .fuzzy(let text, let maxEdits): return .fuzzy(text, maxEdits: maxEdits, field: field)
        // A date range is always its own field, whatever group it stands in.
        case .dateRange(let range): return .dateRange(range)
        }
    }
}

private struct QueryToken {
    enum Kind {
        case open, close
        case and, or, not, plus, minus
        /// `title:`; its value (a term, `(` or `"`) is the next token.
        case field(String)
        case term(QueryTerm)
        case end
    }

    var kind: Kind
    /// 1-based character position of the token's first character, for error messages.
    var position: Int

    var startsUnary: Bool {
        switch kind {
        case .open, .not, .plus, .minus, .field, .term: return true
        case .close, .and, .or, .end: return false
        }
    }

    /// How error messages name the token.
    var spelling: String {
        switch kind {
        case .open: return "'('"
        case .close: return "')'"
        case .and: return "AND"
        case .or: return "OR"
        case .not: return "NOT"
        case .plus: return "'+'"
        case .minus: return "'-'"
        case .field(let name): return "\(name):"
        case .term: return "term"
        case .end: return "end of query"
        }
    }
}

// MARK: - Lexer

/// Cuts the query into tokens one at a time, as the parser asks for them, so that the first
/// error in reading order is the one reported.
private struct QueryLexer {
    /// What the next token may be. After a sign or a field name the next token is an operand,
    /// so there `AND` is a word and `-` is part of the word (`--x` excludes the word `-x`).
    private enum Mode {
        case normal
        /// After `+` or `-`: the operand may still name a field (`-title:x`).
        case afterSign
        /// After `title:`: the rest of the run is the value as written (`title:body:x` is the word `body:x`).
        case fieldValue
    }

    private let characters: [Character]
    private var index = 0
    private var mode = Mode.normal

    init(_ text: String) {
        characters = Array(text)
    }

    mutating func next() throws -> QueryToken {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        let mode = self.mode
        self.mode = .normal
        guard index < characters.count else { return QueryToken(kind: .end, position: index + 1) }
        let start = index
        let position = start + 1
        switch characters[start] {
        case "(":
            index += 1
            return QueryToken(kind: .open, position: position)
        case ")":
            index += 1
            return QueryToken(kind: .close, position: position)
        case "\"":
            return try phrase()
        case let sign where (sign == "+" || sign == "-") && mode == .normal:
            // Only a sign touching its operand is an operator: `- Krieg` is more likely a dash
            // than an exclusion, and a lone sign would otherwise vanish silently.
            let following = start + 1 < characters.count ? characters[start + 1] : nil
            guard let following, !following.isWhitespace, following != ")" else {
                throw KidxError.badQuery("'\(sign)' at character \(position) has nothing right after it to apply to (write \(sign)Krieg, not \(sign) Krieg)")
            }
            index += 1
            self.mode = .afterSign
            return QueryToken(kind: sign == "+" ? .plus : .minus, position: position)
        default:
            return try run(mode: mode)
        }
    }

    private static func isDelimiter(_ character: Character) -> Bool {
        character.isWhitespace || character == "(" || character == ")" || character == "\""
    }

    /// A maximal run of non-delimiters: an operator, a field name with its value, or a term.
    private mutating func run(mode: Mode) throws -> QueryToken {
        let start = index
        while index < characters.count, !Self.isDelimiter(characters[index]) { index += 1 }
        let end = index
        let text = String(characters[start..<end])
        let position = start + 1

        if mode == .normal {
            switch text {
            case "AND": return QueryToken(kind: .and, position: position)
            case "OR": return QueryToken(kind: .or, position: position)
            case "NOT": return QueryToken(kind: .not, position: position)
            default: break
            }
        }

        if mode != .fieldValue, let colon = characters[start..<end].firstIndex(of: ":") {
            let written = String(characters[start..<colon])
            let name = written.lowercased()
            // Any other `x:` is part of the word (`14:30`), so clock times and URLs need no quoting.
            if QuerySyntax.fields.contains(name) {
                return try field(name: name, written: written, start: start, valueStart: colon + 1, end: end)
            }
        }
        return QueryToken(kind: .term(try Self.term(characters[start..<end], position: position)), position: position)
    }

    private mutating func field(name: String, written: String, start: Int, valueStart: Int, end: Int) throws -> QueryToken {
        let position = start + 1
        let next = valueStart < characters.count ? characters[valueStart] : nil
        if valueStart == end, next != "(", next != "\"" {
            throw KidxError.badQuery("\(written): needs a value at character \(position)")
        }
        if name == "date" {
            guard valueStart < end else {
                throw KidxError.badQuery("\(written): at character \(position) takes a date or a range such as 2020-03 or 2020-03-01..2020-04-30, not a \(next == "(" ? "group" : "phrase")")
            }
            let range = try DateRangeSyntax.parse(Array(characters[valueStart..<end]), position: valueStart + 1)
            return QueryToken(kind: .term(.dateRange(range)), position: position)
        }
        index = valueStart
        if valueStart < end { mode = .fieldValue }
        return QueryToken(kind: .field(name), position: position)
    }

    private static func isASCIIDigit(_ character: Character) -> Bool {
        guard let value = character.asciiValue else { return false }
        return value >= 48 && value <= 57
    }

    /// Reads a word, `prefix*` or `fuzzy~N`.
    private static func term(_ run: ArraySlice<Character>, position: Int) throws -> QueryTerm {
        let text = String(run)
        if let star = run.firstIndex(of: "*"), star != run.index(before: run.endIndex) {
            throw KidxError.badQuery("'*' at character \(position + star - run.startIndex) can only end a word (Sanktion*)")
        }
        if run.last == "*" {
            let base = run.dropLast()
            if base.isEmpty {
                throw KidxError.badQuery("a lone '*' at character \(position) has no word to complete (write Sanktion*)")
            }
            if fuzzySuffix(base) != nil {
                throw KidxError.badQuery("'\(text)' at character \(position) is both fuzzy (~) and a prefix (*); use one of them")
            }
            return .prefix(String(base))
        }
        guard let tilde = fuzzySuffix(run) else { return .word(text) }
        let base = run[run.startIndex..<tilde]
        if base.isEmpty || base.contains("~") {
            throw KidxError.badQuery("'~' at character \(position + tilde - run.startIndex) needs a word right before it (Pjöngjang~1)")
        }
        let digits = run[run.index(after: tilde)...]
        // Lucene's bare `~` means the most edits allowed.
        guard digits.count <= 1, let maxEdits = digits.isEmpty ? 2 : Int(String(digits)), maxEdits <= 2 else {
            throw KidxError.badQuery("fuzzy edits must be 0, 1 or 2: '\(text)' at character \(position)")
        }
        return .fuzzy(String(base), maxEdits: maxEdits)
    }

    /// The index of the `~` when the run ends in `~` or `~digits`; a `~` inside a word (`a~b`) is
    /// punctuation, left to the analyzer.
    private static func fuzzySuffix(_ run: ArraySlice<Character>) -> Int? {
        guard let tilde = run.lastIndex(of: "~") else { return nil }
        return run[run.index(after: tilde)...].allSatisfy(isASCIIDigit) ? tilde : nil
    }

    /// Reads `"..."` and an optional `~N` right after the closing quote.
    private mutating func phrase() throws -> QueryToken {
        let open = index
        let position = open + 1
        index += 1
        while index < characters.count, characters[index] != "\"" { index += 1 }
        guard index < characters.count else {
            throw KidxError.badQuery("unbalanced quote: '\"' at character \(position) is never closed")
        }
        let text = String(characters[(open + 1)..<index])
        index += 1
        guard !text.allSatisfy(\.isWhitespace) else { throw KidxError.badQuery("empty phrase at character \(position)") }

        var slop = 0
        if index < characters.count, characters[index] == "~" {
            let tilde = index
            index += 1
            while index < characters.count, !Self.isDelimiter(characters[index]) { index += 1 }
            let digits = characters[(tilde + 1)..<index]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(Self.isASCIIDigit),
                  let value = Int(String(digits)), value <= 100 else {
                throw KidxError.badQuery("phrase slop must be a whole number from 0 to 100: '~\(String(digits))' at character \(tilde + 1)")
            }
            slop = value
        }
        return QueryToken(kind: .term(.phrase(text, slop: slop)), position: position)
    }
}

// MARK: - Parser

/// Recursive descent over the grammar
///
///     query   := orExpr
///     orExpr  := andExpr ("OR" andExpr)*
///     andExpr := unary (["AND"] unary)*
///     unary   := ("NOT" | "-" | "+")? primary
///     primary := "(" orExpr ")" | field ":" value | phrase | word
private struct QueryParser {
    private var lexer: QueryLexer
    private var lookahead: QueryToken?
    private var depth = 0

    init(_ text: String) {
        lexer = QueryLexer(text)
    }

    private mutating func peek() throws -> QueryToken {
        if let lookahead { return lookahead }
        let token = try lexer.next()
        lookahead = token
        return token
    }

    private mutating func advance() throws -> QueryToken {
        let token = try peek()
        lookahead = nil
        return token
    }

    mutating func parseQuery() throws -> QueryExpression {
        let clauses = try orExpression(field: nil)
        let token = try peek()
        guard case .end = token.kind else { throw Self.unexpected(token) }
        // `(a b)` alone means `a b`; the parentheses add nothing.
        if clauses.count == 1, clauses[0].occur != .mustNot, case .group = clauses[0].expression {
            return clauses[0].expression
        }
        return .group(clauses)
    }

    /// The error for a token that cannot stand where it is. Only `)` reaches here in practice:
    /// the other misplaced tokens are caught where their operator is read.
    private static func unexpected(_ token: QueryToken) -> KidxError {
        if case .close = token.kind {
            return KidxError.badQuery("unbalanced parenthesis: ')' at character \(token.position) has no matching '('")
        }
        return KidxError.badQuery("unexpected \(token.spelling) at character \(token.position)")
    }

    /// The clauses of one group level. With several alternatives each becomes a `should`
    /// clause; an alternative of several clauses is kept together as a nested group.
    private mutating func orExpression(field: String?) throws -> [QueryClause] {
        var alternatives = [try andExpression(field: field)]
        while case .or = try peek().kind {
            let or = try advance()
            guard try peek().startsUnary else {
                throw KidxError.badQuery("OR at character \(or.position) has nothing on its right")
            }
            alternatives.append(try andExpression(field: field))
        }
        guard alternatives.count > 1 else { return alternatives[0] }
        return alternatives.map { clauses in
            // A lone `-x` alternative stays a group: inlined it would read `should x`, losing the NOT.
            if clauses.count == 1, clauses[0].occur != .mustNot {
                return QueryClause(occur: .should, expression: clauses[0].expression)
            }
            return QueryClause(occur: .should, expression: .group(clauses))
        }
    }

    private mutating func andExpression(field: String?) throws -> [QueryClause] {
        let first = try peek()
        switch first.kind {
        case .and, .or: throw KidxError.badQuery("\(first.spelling) at character \(first.position) has nothing on its left")
        default: break
        }
        var clauses: [(occur: Occur?, expression: QueryExpression, besideAnd: Bool)] = []
        var afterAnd = false
        while true {
            let (occur, expression) = try unary(field: field)
            clauses.append((occur, expression, afterAnd))
            let next = try peek()
            if case .and = next.kind {
                _ = try advance()
                guard try peek().startsUnary else {
                    throw KidxError.badQuery("AND at character \(next.position) has nothing on its right")
                }
                clauses[clauses.count - 1].besideAnd = true
                afterAnd = true
            } else if next.startsUnary {
                afterAnd = false
            } else {
                break
            }
        }
        return clauses.map { clause in
            QueryClause(occur: clause.occur ?? (clause.besideAnd ? .must : .defaultOperator), expression: clause.expression)
        }
    }

    /// A primary with its prefix operator, if any; nil occur means none was written.
    private mutating func unary(field: String?) throws -> (Occur?, QueryExpression) {
        let token = try peek()
        let occur: Occur
        switch token.kind {
        case .not: occur = .mustNot
        case .minus: occur = .mustNot
        case .plus: occur = .must
        default: return (nil, try primary(field: field))
        }
        _ = try advance()
        let operand = try peek()
        switch operand.kind {
        case .not, .plus, .minus:
            throw KidxError.badQuery("\(token.spelling) at character \(token.position) cannot be followed by another operator (\(operand.spelling) at character \(operand.position))")
        case .and, .or, .close, .end:
            throw KidxError.badQuery("\(token.spelling) at character \(token.position) has nothing to apply to")
        case .open, .field, .term:
            return (occur, try primary(field: field))
        }
    }

    /// `field` is the field named by an enclosing `title:( … )`; a field named closer wins.
    private mutating func primary(field: String?) throws -> QueryExpression {
        let token = try advance()
        switch token.kind {
        case .term(let term):
            return term.expression(field: field)
        case .field(let name):
            return try primary(field: name)
        case .open:
            guard depth < QuerySyntax.maximumDepth else {
                throw KidxError.badQuery("parentheses nested deeper than \(QuerySyntax.maximumDepth) levels at character \(token.position)")
            }
            depth += 1
            defer { depth -= 1 }
            switch try peek().kind {
            case .close: throw KidxError.badQuery("empty parentheses at character \(token.position)")
            case .end: throw KidxError.badQuery("unbalanced parenthesis: '(' at character \(token.position) is never closed")
            default: break
            }
            let clauses = try orExpression(field: field)
            guard case .close = try advance().kind else {
                throw KidxError.badQuery("unbalanced parenthesis: '(' at character \(token.position) is never closed")
            }
            // `((a))` is `a`; but `(-a)` keeps its group, since inlining would drop the NOT.
            if clauses.count == 1, clauses[0].occur != .mustNot { return clauses[0].expression }
            return .group(clauses)
        default:
            throw Self.unexpected(token)
        }
    }
}

// MARK: - Dates

/// Reads the value of `date:` into whole days.
private enum DateRangeSyntax {
    /// A calendar day in the proleptic Gregorian calendar, years 0001...9999.
    struct Day: Comparable {
        var year: Int
        var month: Int
        var day: Int

        static func < (lhs: Day, rhs: Day) -> Bool {
            (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
        }

        static func daysIn(month: Int, year: Int) -> Int {
            switch month {
            case 2:
                let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
                return leap ? 29 : 28
            case 4, 6, 9, 11: return 30
            default: return 31
            }
        }

        var text: String {
            func padded(_ value: Int, _ width: Int) -> String {
                let digits = String(value)
                return String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
            return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
        }

        var next: Day? {
            if day < Self.daysIn(month: month, year: year) { return Day(year: year, month: month, day: day + 1) }
            if month < 12 { return Day(year: year, month: month + 1, day: 1) }
            return year < 9999 ? Day(year: year + 1, month: 1, day: 1) : nil
        }

        var previous: Day? {
            if day > 1 { return Day(year: year, month: month, day: day - 1) }
            if month > 1 { return Day(year: year, month: month - 1, day: Self.daysIn(month: month - 1, year: year)) }
            return year > 1 ? Day(year: year - 1, month: 12, day: 31) : nil
        }
    }

    static let monthNames = ["January", "February", "March", "April", "May", "June", "July",
                             "August", "September", "October", "November", "December"]

    /// `position` is the 1-based character position of `value`'s first character.
    static func parse(_ value: [Character], position: Int) throws -> DateRange {
        let whole = String(value)
        for (op, length) in [(">=", 2), ("<=", 2), (">", 1), ("<", 1)] where whole.hasPrefix(op) {
            let rest = Array(value.dropFirst(length))
            let (first, last) = try span(rest, position: position + length)
            switch op {
            case ">=": return DateRange(from: first.text, to: nil)
            case "<=": return DateRange(from: nil, to: last.text)
            case ">":
                guard let after = last.next else { throw badRange(whole, position, "there is no day after \(last.text)") }
                return DateRange(from: after.text, to: nil)
            default:
                guard let before = first.previous else { throw badRange(whole, position, "there is no day before \(first.text)") }
                return DateRange(from: nil, to: before.text)
            }
        }
        guard let dots = dotsIndex(value) else {
            let (first, last) = try span(value, position: position)
            return DateRange(from: first.text, to: last.text)
        }
        let left = Array(value[..<dots])
        let right = Array(value[(dots + 2)...])
        if left.isEmpty && right.isEmpty { throw badRange(whole, position, "give a start, an end or both") }
        let from = try left.isEmpty ? nil : span(left, position: position).first
        let to = try right.isEmpty ? nil : span(right, position: position + dots + 2).last
        if let from, let to, to < from {
            throw badRange(whole, position, "it starts on \(from.text), after it ends on \(to.text)")
        }
        return DateRange(from: from?.text, to: to?.text)
    }

    private static func dotsIndex(_ value: [Character]) -> Int? {
        guard value.count >= 2 else { return nil }
        return (0..<(value.count - 1)).first { value[$0] == "." && value[$0 + 1] == "." }
    }

    private static func badRange(_ text: String, _ position: Int, _ problem: String) -> KidxError {
        KidxError.badQuery("bad date range '\(text)' at character \(position): \(problem)")
    }

    /// The first and last day of `yyyy`, `yyyy-mm` or `yyyy-mm-dd`.
    private static func span(_ value: [Character], position: Int) throws -> (first: Day, last: Day) {
        let text = String(value)
        func bad(_ problem: String) -> KidxError {
            text.isEmpty
                ? KidxError.badQuery("a date is missing at character \(position) (write yyyy, yyyy-mm or yyyy-mm-dd)")
                : KidxError.badQuery("bad date '\(text)' at character \(position): \(problem)")
        }
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        let widths = [4, 2, 2]
        guard parts.count <= 3, zip(parts, widths).allSatisfy({ part, width in
            part.count == width && part.allSatisfy { $0.asciiValue.map { $0 >= 48 && $0 <= 57 } ?? false }
        }), let year = Int(String(parts[0])) else {
            throw bad("write yyyy, yyyy-mm or yyyy-mm-dd")
        }
        guard year >= 1 else { throw bad("there is no year 0") }
        guard parts.count >= 2, let month = Int(String(parts[1])) else {
            return (Day(year: year, month: 1, day: 1), Day(year: year, month: 12, day: 31))
        }
        guard (1...12).contains(month) else { throw bad("there is no month \(month)") }
        let length = Day.daysIn(month: month, year: year)
        guard parts.count == 3, let day = Int(String(parts[2])) else {
            return (Day(year: year, month: month, day: 1), Day(year: year, month: month, day: length))
        }
        guard (1...length).contains(day) else {
            throw bad("\(monthNames[month - 1]) \(year) has \(length) days")
        }
        let only = Day(year: year, month: month, day: day)
        return (only, only)
    }
}
