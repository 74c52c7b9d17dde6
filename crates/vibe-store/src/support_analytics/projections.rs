//! Which dimensions a snapshot row keeps (migration 0034). Beside the rows
//! per (agent, team, channel), each period holds the same counters summed
//! over some of them: per agent, per team, per channel and the period's
//! total. A read that needs at most one dimension — the owner's view, an
//! agent's own figures, one channel, one team — takes one row per period
//! (and per kept value) instead of one per combination; a supervisor's
//! scope (teams OR members) or two filters at once need every dimension.

use super::{Dims, GroupBy, ReportFilter, ReportScope};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kept {
    /// Agent, team and channel: the fold's own rows.
    All,
    Account,
    Team,
    Channel,
    /// None: the period's total.
    Nothing,
}

impl Kept {
    /// The rows stored beside [`Kept::All`].
    pub const PROJECTIONS: [Kept; 4] = [Kept::Account, Kept::Team, Kept::Channel, Kept::Nothing];

    pub fn as_str(self) -> &'static str {
        match self {
            Kept::All => "atc",
            Kept::Account => "a",
            Kept::Team => "t",
            Kept::Channel => "c",
            Kept::Nothing => "",
        }
    }

    pub fn parse(s: &str) -> Option<Kept> {
        [Kept::All]
            .into_iter()
            .chain(Kept::PROJECTIONS)
            .find(|k| k.as_str() == s)
    }

    /// `dims` with the dimensions this row does not keep set to `""`.
    pub fn project(self, dims: &Dims) -> Dims {
        let keep = |yes: bool, v: &str| if yes { v.to_owned() } else { String::new() };
        Dims {
            account_id: keep(matches!(self, Kept::All | Kept::Account), &dims.account_id),
            team_id: keep(matches!(self, Kept::All | Kept::Team), &dims.team_id),
            channel: keep(matches!(self, Kept::All | Kept::Channel), &dims.channel),
        }
    }

    /// The columns and values the scope or the filters pin this
    /// projection's kept dimensions to, so the read takes only those rows
    /// (an agent's own, one channel's, an agent's on one channel) instead of
    /// every agent's or channel's. A supervisor's scope pins nothing (it is
    /// an OR of teams and members). Where the scope and a filter pin the
    /// agent to different values the answer is empty either way
    /// ([`Dims::admitted`] still applies both).
    pub fn pinned<'a>(
        self,
        scope: &'a ReportScope,
        filter: &'a ReportFilter,
    ) -> Vec<(&'static str, &'a str)> {
        let account = match scope {
            ReportScope::Agent(a) => Some(a.as_str()),
            _ => filter.account_id.as_deref(),
        };
        let keeps = |k: Kept| self == k || self == Kept::All;
        let mut out = Vec::new();
        if let Some(v) = account.filter(|_| keeps(Kept::Account)) {
            out.push(("account_id", v));
        }
        if let Some(v) = filter.team_id.as_deref().filter(|_| keeps(Kept::Team)) {
            out.push(("team_id", v));
        }
        if let Some(v) = filter.channel.as_deref().filter(|_| keeps(Kept::Channel)) {
            out.push(("channel", v));
        }
        out
    }

    /// The narrowest rows that answer a read: those keeping every dimension
    /// the scope, the filters or the grouping look at.
    pub fn for_read(scope: &ReportScope, filter: &ReportFilter, group: GroupBy) -> Kept {
        let account = matches!(scope, ReportScope::Agent(_))
            || filter.account_id.is_some()
            || group == GroupBy::Agent;
        let team = filter.team_id.is_some();
        let channel = filter.channel.is_some();
        if matches!(scope, ReportScope::Teams(..)) {
            return Kept::All;
        }
        match (account, team, channel) {
            (false, false, false) => Kept::Nothing,
            (true, false, false) => Kept::Account,
            (false, true, false) => Kept::Team,
            (false, false, true) => Kept::Channel,
            _ => Kept::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims() -> Dims {
        Dims {
            account_id: "a1".into(),
            team_id: "t1".into(),
            channel: "whatsapp".into(),
        }
    }

    #[test]
    fn names_round_trip() {
        for k in [Kept::All].into_iter().chain(Kept::PROJECTIONS) {
            assert_eq!(Kept::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kept::parse("x"), None);
    }

    #[test]
    fn a_projection_blanks_what_it_does_not_keep() {
        assert_eq!(Kept::All.project(&dims()), dims());
        assert_eq!(Kept::Nothing.project(&dims()), Dims::default());
        let t = Kept::Team.project(&dims());
        assert_eq!(
            (
                t.account_id.as_str(),
                t.team_id.as_str(),
                t.channel.as_str()
            ),
            ("", "t1", "")
        );
    }

    #[test]
    fn a_read_takes_the_narrowest_rows_that_answer_it() {
        let none = ReportFilter::default();
        let on = |f: fn(&mut ReportFilter)| {
            let mut x = ReportFilter::default();
            f(&mut x);
            x
        };
        let all = ReportScope::All;
        assert_eq!(Kept::for_read(&all, &none, GroupBy::Total), Kept::Nothing);
        assert_eq!(Kept::for_read(&all, &none, GroupBy::Hour), Kept::Nothing);
        assert_eq!(Kept::for_read(&all, &none, GroupBy::Agent), Kept::Account);
        let agent = ReportScope::Agent("a1".into());
        assert_eq!(Kept::for_read(&agent, &none, GroupBy::Day), Kept::Account);
        let wa = on(|f| f.channel = Some("whatsapp".into()));
        assert_eq!(Kept::for_read(&all, &wa, GroupBy::Total), Kept::Channel);
        assert_eq!(Kept::for_read(&agent, &wa, GroupBy::Total), Kept::All);
        let team = on(|f| f.team_id = Some(String::new()));
        assert_eq!(Kept::for_read(&all, &team, GroupBy::Total), Kept::Team);
        let sup = ReportScope::Teams(vec!["t1".into()], vec![]);
        assert_eq!(Kept::for_read(&sup, &none, GroupBy::Total), Kept::All);

        let none_pinned: [(&str, &str); 0] = [];
        assert_eq!(Kept::Account.pinned(&agent, &none), [("account_id", "a1")]);
        assert_eq!(Kept::Account.pinned(&all, &none), none_pinned);
        assert_eq!(Kept::Channel.pinned(&all, &wa), [("channel", "whatsapp")]);
        assert_eq!(Kept::Team.pinned(&all, &team), [("team_id", "")]);
        assert_eq!(Kept::Nothing.pinned(&agent, &wa), none_pinned);
        assert_eq!(
            Kept::All.pinned(&agent, &wa),
            [("account_id", "a1"), ("channel", "whatsapp")]
        );
        assert_eq!(Kept::All.pinned(&sup, &wa), [("channel", "whatsapp")]);
    }
}
