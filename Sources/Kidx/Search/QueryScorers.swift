/// Turns a query tree into document scorers: a clause into the posting lists it reads, a group
/// into a conjunction of its required members with its optional and excluded ones, a filter into
/// the documents it lets through.
extension SegmentSearcher {
    /// One posting list (or phrase, or nearness) a clause scores with, labelled for explanations.
    struct Component {
        var field: Field
        var match: Match
        var scorer: DocumentScorer
        /// A compound's parts, found anywhere or near each other: they add to the score but do
        /// not make a required clause match (the word does, alone or inside other compounds;
        /// documents with the parts only follow in the all-words-first fill).
        var isPart = false
        /// The scorer whose documents include all of this one's (the stem's list, for the very
        /// word form's list): a disjunction finds documents without moving this one.
        var within: DocumentScorer?
        /// The dictionary entry of the list read (nil for a phrase or nearness).
        var list: TermInfo?
    }

    /// What a component reads, spelled out only for explanations (a query makes many
    /// components and explains none).
    enum Match {
        case phrase(terms: [String], slop: Int)
        case stem(String)
        case exactForm(String)
        case insideCompounds(String)
        case compoundPart(String)
        case compoundPartInsideCompounds(String)
        case expansion(word: String, edits: Int)
        case near(parts: [String])

        /// The label of an explanation (`impfstoff (compound part)`).
        var description: String {
            switch self {
            case .phrase(let terms, let slop): "\"" + terms.joined(separator: " ") + "\"" + (slop > 0 ? "~\(slop)" : "") + " (phrase)"
            case .stem(let term): "\(term) (stem)"
            case .exactForm(let word): "\(word) (exact form)"
            case .insideCompounds(let term): "\(term) (inside compounds)"
            case .compoundPart(let term): "\(term) (compound part)"
            case .compoundPartInsideCompounds(let term): "\(term) (compound part inside compounds)"
            case .expansion(let word, let edits): "\(word) (\(edits == 0 ? "expansion" : "\(edits) edit\(edits == 1 ? "" : "s")"))"
            case .near(let parts): parts.joined(separator: " … ") + " (near)"
            }
        }
    }

    /// What a word's list is to the word's other lists.
    enum ListRole {
        /// The stem's list.
        case stem
        /// The very word form's list: its documents are all in the stem's (the index files each
        /// form under its stem).
        case exactForm
        case other
    }

    /// The sum of `components`, matching where any matches; nil when there is none.
    func disjunction(_ components: [Component]) -> DocumentScorer? {
        guard components.count > 1 else { return components.first?.scorer }
        return DisjunctionScorer(components.map(\.scorer), within: components.map(\.within))
    }

    /// The scorer of `node`, or nil when it matches nothing. Members without an operator are
    /// combined as `unwritten` says (`.must` or `.should`).
    func scorer(_ node: Query.Node, unwritten: Occur) throws -> DocumentScorer? {
        switch node {
        case .clause(let clause):
            return disjunction(try allComponents(of: clause))
        case .source(let name, let isPrefix):
            if !isPrefix {
                return try reader.postings(Field.sourceKey(name)).map { try TermScorer($0, weight: 0, scoring: fieldScoring[.body]!) }
            }
            return try filter(prefix: Field.sourceKey(name)) { _ in true }
        case .dates(let range):
            return try filter(prefix: [Field.dateSpace]) { day in
                (range.from.map { day >= $0 } ?? true) && (range.to.map { day <= $0 } ?? true)
            }
        case .group(let members):
            var required: [DocumentScorer] = [], optional: [DocumentScorer] = [], excluded: [DocumentScorer] = []
            var requiredFilters = 0
            for member in members {
                switch occur(member, unwritten: unwritten) {
                case .must:
                    if member.isFilter { requiredFilters += 1 }
                    if case .clause(let clause) = member.node {
                        // A required compound matches as a word; its parts only add to the score
                        // (reading positions of frequent parts for every document costs too much).
                        let components = try allComponents(of: clause)
                        guard let words = disjunction(components.filter { !$0.isPart }) else { return nil }
                        required.append(words)
                        optional += components.filter(\.isPart).map(\.scorer)
                    } else {
                        guard let scorer = try scorer(member.node, unwritten: unwritten) else { return nil }
                        required.append(scorer)
                    }
                case .mustNot:
                    if let scorer = try scorer(member.node, unwritten: unwritten) { excluded.append(scorer) }
                default:
                    if let scorer = try scorer(member.node, unwritten: unwritten) { optional.append(scorer) }
                }
            }
            if required.count == requiredFilters, !optional.isEmpty {
                // Alternatives only (filters aside): at least one must match.
                required.append(optional.count == 1 ? optional[0] : DisjunctionScorer(optional))
                optional = []
            }
            guard !required.isEmpty else { return nil }
            if required.count == 1, optional.isEmpty, excluded.isEmpty { return required[0] }
            return ConjunctionScorer(required: required, optional: optional, excluded: excluded)
        }
    }

    /// The documents of every list whose key starts with `prefix` and whose rest `accept` takes.
    private func filter(prefix: [UInt8], accept: (String) -> Bool) throws -> DocumentScorer? {
        let documents = DocumentSetScorer(documentCount: reader.documentCount)
        var found = false
        try reader.terms.forEach(withPrefix: prefix) { key, info in
            guard accept(String(decoding: key.dropFirst(), as: UTF8.self)) else { return true }
            var cursor = try reader.cursor(info)
            while try cursor.next() {
                try fieldScoring[.body]!.check(cursor.doc)
                documents.insert(cursor.doc)
                found = true
            }
            return true
        }
        return found ? documents : nil
    }

    /// Everything a clause scores with: its lists and, for a compound, the nearness of its parts.
    func allComponents(of clause: Query.Clause) throws -> [Component] {
        let lists = try components(of: clause)
        return try lists + nearComponents(of: clause, lists: lists)
    }

    /// The scorers of one clause, over the fields it searches: a phrase's positions, or a
    /// word's posting lists (`wordLists`), or the lists of a prefix or fuzzy word's expansions.
    func components(of clause: Query.Clause) throws -> [Component] {
        // Arrays sized once: grown an element at a time, their copies cost FANG OR queries 2 %
        // of their instructions (433.3 k → 423.7 k each with those in `wordLists` and `search`).
        var components: [Component] = []
        components.reserveCapacity(clause.fields.count * maximumWordLists(clause))
        for field in clause.fields {
            let scoring = fieldScoring[field]!
            let fieldBoost = field == .title ? ranking.titleBoost : 1
            if clause.isPhrase {
                var cursors: [PostingsCursor] = []
                var idfSum: Float = 0
                for term in clause.terms {
                    guard let cursor = try reader.postings(field.key(term.term)) else { break }
                    cursors.append(cursor)
                    idfSum += idf(field.key(term.term), local: cursor.docFreq)
                }
                guard cursors.count == clause.terms.count else { continue }
                // Lucene's phrase weight: the sum of the terms' idf.
                let weight = fieldBoost * idfSum
                let scorer = PhraseScorer(cursors, offsets: clause.terms.map(\.offset), slop: clause.slop, weight: weight, scoring: scoring)
                components.append(Component(field: field, match: .phrase(terms: clause.terms.map(\.term), slop: clause.slop), scorer: scorer))
                continue
            }
            // A word used in one form only shares its stem's list: one scorer, the weights summed
            // (each with its own key's idf: in another segment the two lists may differ).
            let wanted = wordLists(clause, field: field)
            var lists: [(info: TermInfo, weight: Float, match: Match, isPart: Bool, role: ListRole)] = []
            lists.reserveCapacity(wanted.count)
            for list in wanted {
                guard let info = try reader.terms.lookup(list.key) else { continue }
                let weight = list.boost * idf(list.key, local: info.docFreq)
                if let same = lists.firstIndex(where: { $0.info.postingsOffset == info.postingsOffset && $0.isPart == list.isPart }) {
                    lists[same].weight += weight
                } else {
                    lists.append((info, weight, list.match, list.isPart, list.role))
                }
            }
            var stem: DocumentScorer?
            for list in lists {
                let scorer = try TermScorer(try reader.cursor(list.info), weight: list.weight, scoring: scoring)
                if list.role == .stem { stem = scorer }
                components.append(Component(field: field, match: list.match, scorer: scorer, isPart: list.isPart,
                                            within: list.role == .exactForm ? stem : nil, list: list.info))
            }
        }
        return components
    }

    /// The posting lists a word clause reads in `field`, with their weights: its stem, its very
    /// word form (`exactBoost`), the word inside compounds (`partBoost`), and for a compound its
    /// parts on their own (bodies spell out what headlines compound: `Impfstoffmangel` →
    /// "… fehlt Impfstoff …") and, where `compoundPartInsideBoost` is set, inside other
    /// compounds. A prefix or fuzzy word reads the lists of the word forms it expanded to. The
    /// stem's list comes first.
    func wordLists(_ clause: Query.Clause, field: Field) -> [(key: [UInt8], boost: Float, match: Match, isPart: Bool, role: ListRole)] {
        let fieldBoost = field == .title ? ranking.titleBoost : 1
        if clause.expansion != nil {
            return clause.alternatives.map {
                (field.exactKey($0.word), fieldBoost * $0.boost, .expansion(word: $0.word, edits: $0.edits), false, .other)
            }
        }
        let term = clause.terms[0].term
        var lists: [(key: [UInt8], boost: Float, match: Match, isPart: Bool, role: ListRole)] = []
        lists.reserveCapacity(maximumWordLists(clause))
        lists.append((field.key(term), fieldBoost, .stem(term), false, .stem))
        if ranking.exactBoost > 0, let word = clause.exactWord {
            lists.append((field.exactKey(word), fieldBoost * ranking.exactBoost, .exactForm(word), false, .exactForm))
        }
        guard decompounds else { return lists }
        lists.append((field.partKey(term), fieldBoost * ranking.partBoost, .insideCompounds(term), false, .other))
        let partBoost = clause.isHyphenated ? ranking.hyphenPartBoost : ranking.compoundPartBoost
        if clause.compoundParts.count >= 2, partBoost > 0 {
            for part in clause.compoundParts {
                lists.append((field.key(part), fieldBoost * partBoost, .compoundPart(part), true, .other))
                if ranking.compoundPartInsideBoost > 0 {
                    lists.append((field.partKey(part), fieldBoost * partBoost * ranking.compoundPartInsideBoost,
                                  .compoundPartInsideCompounds(part), true, .other))
                }
            }
        }
        return lists
    }

    /// The most lists `wordLists` gives a word clause in one field: its stem's, its form's, its
    /// own inside compounds, and per compound part the part's, on its own and inside compounds.
    private func maximumWordLists(_ clause: Query.Clause) -> Int { 3 + 2 * clause.compoundParts.count }

    /// For a compound word, the scorers of its parts standing near each other, per field. The
    /// parts' lists are taken from `lists` (the clause's `components`) where they are there:
    /// looking them up again took two dictionary lookups per field and compound.
    func nearComponents(of clause: Query.Clause, lists: [Component] = []) throws -> [Component] {
        guard ranking.nearBoost > 0, !clause.isPhrase, clause.expansion == nil, clause.compoundParts.count >= 2 else { return [] }
        var components: [Component] = []
        fields: for field in clause.fields {
            var parts: [PostingsCursor] = []
            var idfSum: Float = 0
            for part in clause.compoundParts {
                // The part as a word: lists of parts inside compounds have no positions, and a
                // stop word's term has none either.
                let known = lists.first { list in
                    guard list.field == field, case .compoundPart(let listed) = list.match else { return false }
                    return listed == part
                }?.list
                guard let info = try known ?? reader.terms.lookup(field.key(part)), info.hasPositions else { continue fields }
                let list = try reader.cursor(info)
                parts.append(list)
                idfSum += statistics.idf(field.key(part), local: list.docFreq)
            }
            let weight = ranking.nearBoost * (field == .title ? ranking.titleBoost : 1) * idfSum
            // The parts' own lists (`wordLists`) bring up every document that has all parts.
            let partsScored = (clause.isHyphenated ? ranking.hyphenPartBoost : ranking.compoundPartBoost) > 0
            let scorer = NearScorer(parts, window: ranking.nearWindow, weight: weight, scoring: fieldScoring[field]!,
                                    placesDecideMatches: !partsScored)
            components.append(Component(field: field, match: .near(parts: clause.compoundParts), scorer: scorer, isPart: true))
        }
        return components
    }
}
