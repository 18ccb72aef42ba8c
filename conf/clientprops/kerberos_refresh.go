package clientprops

import (
	"fmt"
	"math"
	"time"
)

// renewRules are Kafka's sasl.kerberos.ticket.renew.window.factor,
// .ticket.renew.jitter and .min.time.before.relogin.
type renewRules struct {
	windowFactor, jitter float64
	minTime              time.Duration
}

// tgtTimes are a TGT's validity; zero when there is none.
type tgtTimes struct {
	start, end, renewTill time.Time
}

// check refuses values with which the schedule cannot work. Kafka does not
// validate these; a factor outside 0..1 or a negative jitter or minimum
// would only make it refresh at once, forever, or never.
func (r renewRules) check() error {
	switch {
	case math.IsNaN(r.windowFactor) || r.windowFactor <= 0 || r.windowFactor > 1:
		return &Error{Name: "sasl.kerberos.ticket.renew.window.factor", Reason: fmt.Sprintf("%v is not valid: use a fraction of the ticket lifetime above 0 and up to 1 (Kafka's default 0.8)", r.windowFactor)}
	case math.IsNaN(r.jitter) || r.jitter < 0 || r.jitter >= 1:
		return &Error{Name: "sasl.kerberos.ticket.renew.jitter", Reason: fmt.Sprintf("%v is not valid: use 0 up to below 1 (Kafka's default 0.05)", r.jitter)}
	case r.minTime < 0:
		return &Error{Name: "sasl.kerberos.min.time.before.relogin", Reason: fmt.Sprintf("%d is not valid: use 0 or more milliseconds (Kafka's default 60000)", r.minTime.Milliseconds())}
	}
	return nil
}

// refreshAt is when Kafka's KerberosLogin refreshes a TGT: at
// start + lifetime * (window.factor + jitter * rnd), not sooner than
// min.time.before.relogin from now unless the TGT would expire first, in
// which case at once. With no TGT it tries again after min.time. stop
// says why the loop must end, as Kafka's thread does: a cached TGT that
// cannot be renewed past its expiry, or a schedule past the expiry (clock
// skew). rnd is in [0,1).
//
// One difference: where Kafka computes "now" as the refresh time and
// then finds it "in the past" and ends its thread (no new connection can
// authenticate after the expiry), linkproxy refreshes at once.
func (r renewRules) refreshAt(now time.Time, t tgtTimes, fromCache bool, rnd float64) (time.Time, string) {
	if t.end.IsZero() {
		return now.Add(r.minTime), ""
	}
	if fromCache && !t.renewTill.IsZero() && t.renewTill.Before(t.end) {
		return time.Time{}, fmt.Sprintf("the TGT cannot be renewed beyond its expiry at %s: new broker connections will fail after that; raise the principal's maxrenewlife (kadmin modprinc -maxrenewlife) or use a keytab (useKeyTab=true)", t.end.Format(time.RFC3339))
	}
	life := t.end.Sub(t.start)
	next := t.start.Add(time.Duration(float64(life) * (r.windowFactor + r.jitter*rnd)))
	if next.After(t.end) {
		next = now
	}
	if next.After(t.end) || r.minTime > t.end.Sub(now) {
		return now, "" // expires before the next scheduled refresh
	}
	if min := now.Add(r.minTime); next.Before(min) {
		next = min
	}
	if next.After(t.end) {
		return time.Time{}, fmt.Sprintf("the next refresh at %s is after the TGT expiry at %s: check that this host's and the KDC's clocks agree", next.Format(time.RFC3339), t.end.Format(time.RFC3339))
	}
	return next, ""
}
