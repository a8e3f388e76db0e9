import Testing
@testable import Kidx

@Suite struct QuerySyntaxTests {
    // MARK: Helpers

    private func word(_ text: String, _ field: String? = nil) -> QueryExpression { .word(text, field: field) }
    private func clause(_ occur: Occur, _ expression: QueryExpression) -> QueryClause {
        QueryClause(occur: occur, expression: expression)
    }
    /// Clauses written side by side, as in `a b c`.
    private func juxtaposed(_ expressions: QueryExpression...) -> QueryExpression {
        .group(expressions.map { clause(.defaultOperator, $0) })
    }
    private func dates(_ from: String?, _ to: String?) -> QueryExpression {
        .group([clause(.defaultOperator, .dateRange(DateRange(from: from, to: to)))])
    }
    private func parse(_ text: String) throws -> QueryExpression { try QuerySyntax.parse(text) }

    /// Expects `text` to be rejected with exactly `message`.
    private func expectError(_ text: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: KidxError.badQuery(message), "query: \(text)", sourceLocation: sourceLocation) {
            try QuerySyntax.parse(text)
        }
    }

    // MARK: Terms

    @Test("words are juxtaposed clauses with the default operator")
    func words() throws {
        #expect(try parse("Sanktionen") == juxtaposed(word("Sanktionen")))
        #expect(try parse("  Sanktionen \t Nordkorea\n") == juxtaposed(word("Sanktionen"), word("Nordkorea")))
    }

    @Test("German text: umlauts and ß stay as written")
    func germanText() throws {
        #expect(try parse("Übergröße Straße Müller Pjöngjang") ==
                juxtaposed(word("Übergröße"), word("Straße"), word("Müller"), word("Pjöngjang")))
        #expect(try parse("ÄRGER*") == .group([clause(.defaultOperator, .prefix("ÄRGER", field: nil))]))
    }

    @Test("hyphens and plus signs inside a word are part of it")
    func hyphenatedWords() throws {
        #expect(try parse("Corona-Krise COVID-19 2+2 Nord-Korea-Gipfel") ==
                juxtaposed(word("Corona-Krise"), word("COVID-19"), word("2+2"), word("Nord-Korea-Gipfel")))
    }

    @Test("punctuation inside words is kept; an unknown field name is part of the word")
    func punctuationInWords() throws {
        #expect(try parse("U.S.A. zeit.de 14:30 Corona: ::: autor:Müller https://zeit.de") ==
                juxtaposed(word("U.S.A."), word("zeit.de"), word("14:30"), word("Corona:"), word(":::"),
                           word("autor:Müller"), word("https://zeit.de")))
    }

    @Test("lowercase and, or, not are words, not operators")
    func lowercaseOperatorsAreWords() throws {
        #expect(try parse("Krieg and Frieden or not") ==
                juxtaposed(word("Krieg"), word("and"), word("Frieden"), word("or"), word("not")))
    }

    @Test("phrases keep their raw text; ~N sets the slop")
    func phrases() throws {
        #expect(try parse("\"Kim Jong Un\"") == .group([clause(.defaultOperator, .phrase("Kim Jong Un", slop: 0, field: nil))]))
        #expect(try parse("\"Trump Kim\"~5") == .group([clause(.defaultOperator, .phrase("Trump Kim", slop: 5, field: nil))]))
        #expect(try parse("\" Kim  Jong \"~0 \"a (b) c*\"~100") == juxtaposed(
            .phrase(" Kim  Jong ", slop: 0, field: nil), .phrase("a (b) c*", slop: 100, field: nil)))
        // A phrase ends at its quote, so a word may follow without a space.
        #expect(try parse("\"Kim Jong\"Un") == juxtaposed(.phrase("Kim Jong", slop: 0, field: nil), word("Un")))
    }

    @Test("a trailing * makes a prefix")
    func prefixes() throws {
        #expect(try parse("Sanktion* Nord-*") == juxtaposed(.prefix("Sanktion", field: nil), .prefix("Nord-", field: nil)))
    }

    @Test("a trailing ~, ~0, ~1 or ~2 makes a fuzzy term; a bare ~ allows 2 edits")
    func fuzzy() throws {
        #expect(try parse("Pjöngjang~ Pjöngjang~0 Pjöngjang~1 Pjöngjang~2") == juxtaposed(
            .fuzzy("Pjöngjang", maxEdits: 2, field: nil), .fuzzy("Pjöngjang", maxEdits: 0, field: nil),
            .fuzzy("Pjöngjang", maxEdits: 1, field: nil), .fuzzy("Pjöngjang", maxEdits: 2, field: nil)))
        // A ~ inside a word is punctuation.
        #expect(try parse("a~b") == juxtaposed(word("a~b")))
    }

    // MARK: Fields

    @Test("field:value for words, phrases, prefixes and fuzzy terms; the name is lowercased")
    func fields() throws {
        #expect(try parse("title:Gipfel source:zeit.de body:Sank* TITLE:Pjöngjang~1 Title:\"Kim Jong\"~2") == juxtaposed(
            word("Gipfel", "title"), word("zeit.de", "source"), .prefix("Sank", field: "body"),
            .fuzzy("Pjöngjang", maxEdits: 1, field: "title"), .phrase("Kim Jong", slop: 2, field: "title")))
        // A field value is taken as written: no operator, sign or second field inside it.
        #expect(try parse("title:AND title:-x title:body:x") ==
                juxtaposed(word("AND", "title"), word("-x", "title"), word("body:x", "title")))
    }

    @Test("a field before a group applies to every term inside it; a field named inside wins")
    func fieldPropagation() throws {
        #expect(try parse("title:(Gipfel OR \"Kim Jong\" Sank* Pjöngjang~1)") == .group([
            clause(.should, word("Gipfel", "title")),
            clause(.should, .group([
                clause(.defaultOperator, .phrase("Kim Jong", slop: 0, field: "title")),
                clause(.defaultOperator, .prefix("Sank", field: "title")),
                clause(.defaultOperator, .fuzzy("Pjöngjang", maxEdits: 1, field: "title")),
            ])),
        ]))
        #expect(try parse("a title:(b (c body:d) -e date:2020)") == juxtaposed(
            word("a"),
            .group([
                clause(.defaultOperator, word("b", "title")),
                clause(.defaultOperator, juxtaposed(word("c", "title"), word("d", "body"))),
                clause(.mustNot, word("e", "title")),
                clause(.defaultOperator, .dateRange(DateRange(from: "2020-01-01", to: "2020-12-31"))),
            ])))
    }

    // MARK: Dates

    @Test("single dates: a year, a month, a day")
    func singleDates() throws {
        #expect(try parse("date:2020") == dates("2020-01-01", "2020-12-31"))
        #expect(try parse("date:2020-03") == dates("2020-03-01", "2020-03-31"))
        #expect(try parse("date:2020-04") == dates("2020-04-01", "2020-04-30"))
        #expect(try parse("date:2020-03-05") == dates("2020-03-05", "2020-03-05"))
        #expect(try parse("DATE:2020-12") == dates("2020-12-01", "2020-12-31"))
    }

    @Test("February has 29 days in leap years (2020, 2000), 28 otherwise (2021, 1900)")
    func leapYears() throws {
        #expect(try parse("date:2020-02") == dates("2020-02-01", "2020-02-29"))
        #expect(try parse("date:2000-02") == dates("2000-02-01", "2000-02-29"))
        #expect(try parse("date:2021-02") == dates("2021-02-01", "2021-02-28"))
        #expect(try parse("date:1900-02") == dates("1900-02-01", "1900-02-28"))
        #expect(try parse("date:2020-02-29") == dates("2020-02-29", "2020-02-29"))
        #expect(try parse("date:>2020-02") == dates("2020-03-01", nil))
        #expect(try parse("date:<2020-03") == dates(nil, "2020-02-29"))
    }

    @Test("ranges with .. expand their ends to whole months and years")
    func dateRanges() throws {
        #expect(try parse("date:2020-03-01..2020-04-30") == dates("2020-03-01", "2020-04-30"))
        #expect(try parse("date:2020-03..2020-04") == dates("2020-03-01", "2020-04-30"))
        #expect(try parse("date:2019..2020-06") == dates("2019-01-01", "2020-06-30"))
        #expect(try parse("date:2020-03-05..2020-03-05") == dates("2020-03-05", "2020-03-05"))
        #expect(try parse("date:..2020-04-30") == dates(nil, "2020-04-30"))
        #expect(try parse("date:..2020-04") == dates(nil, "2020-04-30"))
        #expect(try parse("date:2020-03-01..") == dates("2020-03-01", nil))
        #expect(try parse("date:2020..") == dates("2020-01-01", nil))
    }

    @Test("comparisons: >=, >, <=, < against the first or last day of the period")
    func dateComparisons() throws {
        #expect(try parse("date:>=2020-03") == dates("2020-03-01", nil))
        #expect(try parse("date:>2020-03") == dates("2020-04-01", nil))
        #expect(try parse("date:<=2020-03") == dates(nil, "2020-03-31"))
        #expect(try parse("date:<2020-03-05") == dates(nil, "2020-03-04"))
        #expect(try parse("date:>2020") == dates("2021-01-01", nil))
        #expect(try parse("date:<2020") == dates(nil, "2019-12-31"))
        #expect(try parse("date:>2020-12-31") == dates("2021-01-01", nil))
        #expect(try parse("date:<2020-03-01") == dates(nil, "2020-02-29"))
    }

    @Test("a date clause combines like any other, -date: included")
    func datesWithOperators() throws {
        #expect(try parse("Gipfel -date:2020 AND date:>=2019") == .group([
            clause(.defaultOperator, word("Gipfel")),
            clause(.mustNot, .dateRange(DateRange(from: "2020-01-01", to: "2020-12-31"))),
            clause(.must, .dateRange(DateRange(from: "2019-01-01", to: nil))),
        ]))
    }

    // MARK: Operators

    @Test("AND makes both sides must; OR makes both sides should")
    func andOr() throws {
        #expect(try parse("a AND b") == .group([clause(.must, word("a")), clause(.must, word("b"))]))
        #expect(try parse("a OR b") == .group([clause(.should, word("a")), clause(.should, word("b"))]))
        #expect(try parse("a AND b AND c") == .group([clause(.must, word("a")), clause(.must, word("b")), clause(.must, word("c"))]))
        #expect(try parse("a OR b OR c") == .group([clause(.should, word("a")), clause(.should, word("b")), clause(.should, word("c"))]))
    }

    @Test("AND binds tighter than OR; juxtaposed clauses bind like AND")
    func precedence() throws {
        #expect(try parse("a b OR c") == .group([
            clause(.should, juxtaposed(word("a"), word("b"))),
            clause(.should, word("c")),
        ]))
        #expect(try parse("a AND b c") == .group([
            clause(.must, word("a")), clause(.must, word("b")), clause(.defaultOperator, word("c")),
        ]))
        #expect(try parse("a b AND c") == .group([
            clause(.defaultOperator, word("a")), clause(.must, word("b")), clause(.must, word("c")),
        ]))
        #expect(try parse("a OR b AND c") == .group([
            clause(.should, word("a")),
            clause(.should, .group([clause(.must, word("b")), clause(.must, word("c"))])),
        ]))
        #expect(try parse("a AND b OR c d") == .group([
            clause(.should, .group([clause(.must, word("a")), clause(.must, word("b"))])),
            clause(.should, juxtaposed(word("c"), word("d"))),
        ]))
    }

    @Test("+ and - at the start of a term make it must and mustNot")
    func signs() throws {
        #expect(try parse("+a -b c") == .group([
            clause(.must, word("a")), clause(.mustNot, word("b")), clause(.defaultOperator, word("c")),
        ]))
        #expect(try parse("-\"Kim Jong\" +title:Gipfel -Sank* +(x y)") == .group([
            clause(.mustNot, .phrase("Kim Jong", slop: 0, field: nil)),
            clause(.must, word("Gipfel", "title")),
            clause(.mustNot, .prefix("Sank", field: nil)),
            clause(.must, juxtaposed(word("x"), word("y"))),
        ]))
        // Only the first sign is an operator; what follows it is the term.
        #expect(try parse("--x -AND") == .group([clause(.mustNot, word("-x")), clause(.mustNot, word("AND"))]))
    }

    @Test("NOT makes the next term mustNot, also after AND")
    func not() throws {
        #expect(try parse("NOT a") == .group([clause(.mustNot, word("a"))]))
        #expect(try parse("a NOT b") == .group([clause(.defaultOperator, word("a")), clause(.mustNot, word("b"))]))
        #expect(try parse("a AND NOT b") == .group([clause(.must, word("a")), clause(.mustNot, word("b"))]))
        #expect(try parse("a AND -b") == .group([clause(.must, word("a")), clause(.mustNot, word("b"))]))
        #expect(try parse("NOT (a OR b)") == .group([
            clause(.mustNot, .group([clause(.should, word("a")), clause(.should, word("b"))])),
        ]))
        // Syntactically fine; the searcher reports a query that only excludes.
        #expect(try parse("-a -b") == .group([clause(.mustNot, word("a")), clause(.mustNot, word("b"))]))
    }

    @Test("an excluded OR alternative keeps its NOT in a group of its own")
    func negatedAlternative() throws {
        #expect(try parse("a OR -b") == .group([
            clause(.should, word("a")),
            clause(.should, .group([clause(.mustNot, word("b"))])),
        ]))
        #expect(try parse("a OR +b") == .group([clause(.should, word("a")), clause(.should, word("b"))]))
    }

    // MARK: Parentheses

    @Test("parentheses group; redundant single-clause groups are flattened")
    func parentheses() throws {
        #expect(try parse("((a))") == juxtaposed(word("a")))
        #expect(try parse("(a b)") == juxtaposed(word("a"), word("b")))
        #expect(try parse("(a OR b)") == .group([clause(.should, word("a")), clause(.should, word("b"))]))
        #expect(try parse("(a OR b) AND c") == .group([
            clause(.must, .group([clause(.should, word("a")), clause(.should, word("b"))])),
            clause(.must, word("c")),
        ]))
        #expect(try parse("Nordkorea (Sanktionen OR (Gipfel AND Trump))") == .group([
            clause(.defaultOperator, word("Nordkorea")),
            clause(.defaultOperator, .group([
                clause(.should, word("Sanktionen")),
                clause(.should, .group([clause(.must, word("Gipfel")), clause(.must, word("Trump"))])),
            ])),
        ]))
        #expect(try parse("-(a) x ((-b))") == .group([
            clause(.mustNot, word("a")),
            clause(.defaultOperator, word("x")),
            clause(.defaultOperator, .group([clause(.mustNot, word("b"))])),
        ]))
        #expect(try parse("(a)AND(b)") == .group([clause(.must, word("a")), clause(.must, word("b"))]))
    }

    @Test("nesting up to maximumDepth is accepted")
    func deepNesting() throws {
        let depth = QuerySyntax.maximumDepth
        let text = String(repeating: "(", count: depth) + "a b" + String(repeating: ")", count: depth)
        #expect(try parse(text) == juxtaposed(word("a"), word("b")))
        let tooDeep = String(repeating: "(", count: depth + 1) + "a" + String(repeating: ")", count: depth + 1)
        expectError(tooDeep, "parentheses nested deeper than 32 levels at character 33")
    }

    // MARK: Malformed input

    @Test("empty queries")
    func emptyQueries() {
        expectError("", "the query is empty")
        expectError(" \t\n ", "the query is empty")
        expectError("()", "empty parentheses at character 1")
        expectError("a ( )", "empty parentheses at character 3")
    }

    @Test("unbalanced parentheses name the unmatched one")
    func unbalancedParentheses() {
        expectError("(a b", "unbalanced parenthesis: '(' at character 1 is never closed")
        expectError("Krieg (Frieden", "unbalanced parenthesis: '(' at character 7 is never closed")
        expectError("((a) b", "unbalanced parenthesis: '(' at character 1 is never closed")
        expectError("(", "unbalanced parenthesis: '(' at character 1 is never closed")
        expectError("a b)", "unbalanced parenthesis: ')' at character 4 has no matching '('")
        expectError(") a", "unbalanced parenthesis: ')' at character 1 has no matching '('")
        expectError("(a))", "unbalanced parenthesis: ')' at character 4 has no matching '('")
    }

    @Test("operators with nothing to apply to")
    func danglingOperators() {
        expectError("AND b", "AND at character 1 has nothing on its left")
        expectError("OR b", "OR at character 1 has nothing on its left")
        expectError("a AND", "AND at character 3 has nothing on its right")
        expectError("a OR", "OR at character 3 has nothing on its right")
        expectError("a AND OR b", "AND at character 3 has nothing on its right")
        expectError("a OR AND b", "OR at character 3 has nothing on its right")
        expectError("(a AND) b", "AND at character 4 has nothing on its right")
        expectError("(OR a)", "OR at character 2 has nothing on its left")
        expectError("NOT", "NOT at character 1 has nothing to apply to")
        expectError("a NOT", "NOT at character 3 has nothing to apply to")
        expectError("NOT AND a", "NOT at character 1 has nothing to apply to")
        expectError("NOT NOT a", "NOT at character 1 cannot be followed by another operator (NOT at character 5)")
        expectError("NOT -a", "NOT at character 1 cannot be followed by another operator ('-' at character 5)")
        expectError("-", "'-' at character 1 has nothing right after it to apply to (write -Krieg, not - Krieg)")
        expectError("a +", "'+' at character 3 has nothing right after it to apply to (write +Krieg, not + Krieg)")
        expectError("Berlin - Paris", "'-' at character 8 has nothing right after it to apply to (write -Krieg, not - Krieg)")
        expectError("(a -)", "'-' at character 4 has nothing right after it to apply to (write -Krieg, not - Krieg)")
    }

    @Test("* only ends a word")
    func starMisuse() {
        expectError("*", "a lone '*' at character 1 has no word to complete (write Sanktion*)")
        expectError("a -*", "a lone '*' at character 4 has no word to complete (write Sanktion*)")
        expectError("Sank*tion", "'*' at character 5 can only end a word (Sanktion*)")
        expectError("title:Sank*tion", "'*' at character 11 can only end a word (Sanktion*)")
        expectError("**", "'*' at character 1 can only end a word (Sanktion*)")
        expectError("Sank~1*", "'Sank~1*' at character 1 is both fuzzy (~) and a prefix (*); use one of them")
    }

    @Test("fuzzy terms allow at most 2 edits and need a word")
    func fuzzyMisuse() {
        expectError("Pjöngjang~3", "fuzzy edits must be 0, 1 or 2: 'Pjöngjang~3' at character 1")
        expectError("Kim Pjöngjang~12", "fuzzy edits must be 0, 1 or 2: 'Pjöngjang~12' at character 5")
        expectError("~", "'~' at character 1 needs a word right before it (Pjöngjang~1)")
        expectError("a ~2", "'~' at character 3 needs a word right before it (Pjöngjang~1)")
        expectError("a~~", "'~' at character 3 needs a word right before it (Pjöngjang~1)")
    }

    @Test("phrases: unbalanced quotes, empty phrases, bad slop")
    func phraseMisuse() {
        expectError("\"Kim Jong", "unbalanced quote: '\"' at character 1 is never closed")
        expectError("a \"b\" \"c", "unbalanced quote: '\"' at character 7 is never closed")
        expectError("\"~5", "unbalanced quote: '\"' at character 1 is never closed")
        expectError("a \"\"", "empty phrase at character 3")
        expectError("\"  \"", "empty phrase at character 1")
        expectError("\"a b\"~101", "phrase slop must be a whole number from 0 to 100: '~101' at character 6")
        expectError("\"a b\"~", "phrase slop must be a whole number from 0 to 100: '~' at character 6")
        expectError("\"a b\"~x", "phrase slop must be a whole number from 0 to 100: '~x' at character 6")
        expectError("\"a b\"~99999999999999999999", "phrase slop must be a whole number from 0 to 100: '~99999999999999999999' at character 6")
    }

    @Test("a field needs a value")
    func fieldMisuse() {
        expectError("title:", "title: needs a value at character 1")
        expectError("a Title: b", "Title: needs a value at character 3")
        expectError("(source:)", "source: needs a value at character 2")
        expectError("date:", "date: needs a value at character 1")
        expectError("date:(2020 OR 2021)", "date: at character 1 takes a date or a range such as 2020-03 or 2020-03-01..2020-04-30, not a group")
        expectError("date:\"2020\"", "date: at character 1 takes a date or a range such as 2020-03 or 2020-03-01..2020-04-30, not a phrase")
    }

    @Test("bad dates name the position and the problem")
    func badDates() {
        expectError("date:2020-13-01", "bad date '2020-13-01' at character 6: there is no month 13")
        expectError("date:2020-00", "bad date '2020-00' at character 6: there is no month 0")
        expectError("date:2020-02-30", "bad date '2020-02-30' at character 6: February 2020 has 29 days")
        expectError("date:2021-02-29", "bad date '2021-02-29' at character 6: February 2021 has 28 days")
        expectError("date:2020-04-31", "bad date '2020-04-31' at character 6: April 2020 has 30 days")
        expectError("a date:gestern", "bad date 'gestern' at character 8: write yyyy, yyyy-mm or yyyy-mm-dd")
        expectError("date:2020-3", "bad date '2020-3' at character 6: write yyyy, yyyy-mm or yyyy-mm-dd")
        expectError("date:0000", "bad date '0000' at character 6: there is no year 0")
        expectError("date:2020-01..2020-13", "bad date '2020-13' at character 15: there is no month 13")
        expectError("date:2020-05..2020-04", "bad date range '2020-05..2020-04' at character 6: it starts on 2020-05-01, after it ends on 2020-04-30")
        expectError("date:..", "bad date range '..' at character 6: give a start, an end or both")
        expectError("date:2020..2021..2022", "bad date '2021..2022' at character 12: write yyyy, yyyy-mm or yyyy-mm-dd")
        expectError("date:>", "a date is missing at character 7 (write yyyy, yyyy-mm or yyyy-mm-dd)")
        expectError("date:>=", "a date is missing at character 8 (write yyyy, yyyy-mm or yyyy-mm-dd)")
        expectError("date:>9999", "bad date range '>9999' at character 6: there is no day after 9999-12-31")
        expectError("date:<0001-01-01", "bad date range '<0001-01-01' at character 6: there is no day before 0001-01-01")
    }

    @Test("odd input neither crashes nor hangs")
    func oddInput() throws {
        #expect(try parse("\u{0}\u{7}a\u{1B}[0m") == juxtaposed(word("\u{0}\u{7}a\u{1B}[0m")))
        #expect(try parse("🇩🇪 👩‍👩‍👧 Zürich🙂") == juxtaposed(word("🇩🇪"), word("👩‍👩‍👧"), word("Zürich🙂")))
        #expect(try parse(":::") == juxtaposed(word(":::")))
        #expect(try parse("e\u{301}t\u{E9}") == juxtaposed(word("e\u{301}t\u{E9}")))
        expectError("🙂 🙂 (", "unbalanced parenthesis: '(' at character 5 is never closed")
        expectError("~", "'~' at character 1 needs a word right before it (Pjöngjang~1)")
        expectError("date:", "date: needs a value at character 1")
        expectError("\"~5", "unbalanced quote: '\"' at character 1 is never closed")
        expectError(String(repeating: "\"", count: 10_000), "empty phrase at character 1")
        expectError(String(repeating: "(", count: 10_000), "parentheses nested deeper than 32 levels at character 33")
        expectError(String(repeating: ")", count: 10_000), "unbalanced parenthesis: ')' at character 1 has no matching '('")
        expectError(String(repeating: "NOT ", count: 2_500), "NOT at character 1 cannot be followed by another operator (NOT at character 5)")
        let long = String(repeating: "a AND ", count: 2_000) + "a"
        guard case .group(let clauses) = try parse(long) else { Issue.record("not a group"); return }
        #expect(clauses.count == 2_001 && clauses.allSatisfy { $0.occur == .must })
        #expect(try parse(String(repeating: "-", count: 10_000)) ==
                .group([clause(.mustNot, word(String(repeating: "-", count: 9_999)))]))
    }

    // MARK: Fuzzing

    /// Writes a tree back as a query string, so that parsing it gives the same tree.
    private func render(_ expression: QueryExpression, top: Bool = false) -> String {
        func fielded(_ text: String, _ field: String?) -> String {
            guard let field else {
                // A term that would read as an operator stays a term behind a `+` in its own group.
                let readsAsOperator = ["AND", "OR", "NOT"].contains(text) || text.first == "-" || text.first == "+"
                return readsAsOperator ? "(+\(text))" : text
            }
            return "\(field):\(text)"
        }
        switch expression {
        case .word(let text, let field): return fielded(text, field)
        case .prefix(let text, let field): return fielded(text + "*", field)
        case .fuzzy(let text, let maxEdits, let field): return fielded("\(text)~\(maxEdits)", field)
        case .phrase(let text, let slop, let field):
            return (field.map { "\($0):" } ?? "") + "\"\(text)\"" + (slop == 0 ? "" : "~\(slop)")
        case .dateRange(let range): return "date:\(range.from ?? "")..\(range.to ?? "")"
        case .group(let clauses):
            let isOr = clauses.contains { $0.occur == .should }
            let parts = clauses.map { clause -> String in
                let inner = render(clause.expression)
                switch clause.occur {
                case .must: return "+" + inner
                case .mustNot: return "-" + inner
                case .should, .defaultOperator: return inner
                }
            }
            let body = parts.joined(separator: isOr ? " OR " : " ")
            return top ? body : "(\(body))"
        }
    }

    @Test("20,000 random queries: a group or a badQuery naming a position, never a crash; rendering round-trips")
    func fuzzing() throws {
        let pieces = ["(", ")", "\"", "*", "~", ":", "+", "-", " AND ", " OR ", "NOT ", "AND", "date:", "title:", "body:",
                      "..", ">", ">=", "<", " ", " ", " ", "\t", "a", "b", "Krieg", "ä", "ö", "ü", "ß", "Ü", "0", "1", "2",
                      "9", "2020", "-03", "-02-29", "~2", "~1", "~9", "😀", "\u{0}", "\n", "\u{301}", ".", "Zeit.de", "14:30"]
        var generator = SeededGenerator(seed: 0x6B69_6478)  // the same strings on every platform
        var parsed = 0
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...12, using: &generator)
            let text = (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined()
            do {
                let tree = try QuerySyntax.parse(text)
                guard case .group = tree else {
                    Issue.record("\(text.debugDescription) parsed to a non-group \(tree)")
                    continue
                }
                parsed += 1
                // A combining mark can fuse with the separator the renderer puts before it.
                if !text.unicodeScalars.contains("\u{301}") {
                    let rendered = render(tree, top: true)
                    let again = try? QuerySyntax.parse(rendered)
                    #expect(again == tree, "\(text.debugDescription) rendered as \(rendered.debugDescription)")
                }
            } catch KidxError.badQuery(let message) {
                if message == "the query is empty" { continue }
                // Every other message names a character of the query (or the end just past it).
                let number = message.split(separator: "at character ").dropFirst().first?.prefix { $0.isNumber }
                let position = number.flatMap { Int($0) }
                #expect(position.map { (1...text.count + 1).contains($0) } == true,
                        "\(text.debugDescription): \(message)")
            } catch {
                Issue.record("\(text.debugDescription) threw \(error)")
            }
        }
        // The generator should exercise both outcomes, not only errors.
        #expect(parsed > 2_000)
    }
}
