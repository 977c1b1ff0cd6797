import SlipwayStore

extension EventLog {
    /// The id of the newest event, of `app` or of the whole log; 0 for none.
    func newestID(app: String? = nil) throws(StoreError) -> Int64 {
        try events(app: app, before: nil, limit: 1).first?.id ?? 0
    }
}
