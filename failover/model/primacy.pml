/*
 * ShrivenQuant primacy protocol: witness lease, per-node self-fencing, standby promotion.
 * Checked with SPIN by PrimacyModelTest; README.md in this directory says what is modelled,
 * what is abstracted and how to run it by hand.
 *
 * Modes (at most one of LIVE / PAUSE):
 *   (default)      SAFETY: every message may be delayed without bound or lost, any node may crash
 *                  and restart, regions fence and resync, any number of failovers. Assertions:
 *                  never two regions accepting orders at the same instant; a region accepts only
 *                  in an epoch it acquired (hence never two regions accepting in one epoch).
 *   -DLIVE         LIVENESS (./pan -a): region-1 may die for good (its nodes crash, or it is cut
 *                  off from the witness and region-2); region-2 and the witness stay up, every
 *                  message is delivered within MAX_DELAY ticks, at most LOSS_BUDGET of region-2's
 *                  messages are lost. LTL: [] (region-1 dead -> <> region-2 surely accepting).
 *   -DPAUSE        NO FALSE FAILOVER: no loss, no crash, delivery within MAX_DELAY; region-1 stalls
 *                  once for less than PAUSE_BUDGET. Assertion: the lease never (even possibly)
 *                  expires at the witness, so the standby can never take it.
 * Deliberately wrong rules (the SAFETY check must fail with them):
 *   -DBROKEN_FENCE  a node counts its fence margin from the END of a renewal (reply arrival)
 *   -DBROKEN_MARGIN fence margin = TTL
 */

/* ---- timing constants of the code (failover/src/main/resources/reference.conf), in ticks of
        TICK_MS; PrimacyModelTest checks them against shrivenquant.failover.* ---- */
#define TICK_MS        100
#define TTL            20   /* lease.ttl             2000 ms */
#define RENEW          2    /* lease.renew-interval   200 ms */
#define FENCE          14   /* lease.fence-margin    1400 ms */
#define PAUSE_BUDGET   15   /* watcher.pause-budget  1500 ms */
#define RHO_PERMILLE   50   /* lease.max-clock-drift 0.05   */

/* ---- bounds of the model ---- */
#define MAX_EPOCH      3    /* epochs referred to at once (epochs are renumbered, see shiftEpochs) */
#define MAX_DELAY      1    /* LIVE, PAUSE: a message is delivered (or lost) within this many ticks */
#ifndef LOSS_BUDGET
#define LOSS_BUDGET    1    /* LIVE: how many of region-2's messages (nodes, watcher) may be lost */
#endif
#ifndef STALL_TICKS
#define STALL_TICKS    (PAUSE_BUDGET - 1)   /* PAUSE: the longest stall, shorter than pause-budget */
#endif

#if defined(LIVE) || defined(PAUSE)
#define BOUNDED
#endif

#ifdef BROKEN_MARGIN
#define FENCE_USED     TTL
#else
#define FENCE_USED     FENCE
#endif

/* Clock-rate drift. A window of w ticks measured on one clock (a node's or the witness's) lasts
   between w - DRIFT(w) and w + DRIFT(w) real ticks, DRIFT(w) = ceil(rho * w). All the model's
   counters count real (global) ticks; each clock's reading is folded into its thresholds. */
#define DRIFT(w)       (((w) * RHO_PERMILLE + 999) / 1000)
/* node accepts iff local age < FENCE: at real age a possibly iff a - DRIFT < FENCE, surely iff a + DRIFT < FENCE */
#define F_LAST         (FENCE_USED + DRIFT(FENCE_USED) - 1)
#define F_SURE         (FENCE_USED - DRIFT(FENCE_USED) - 1)
#define NEVER          (F_LAST + 1)          /* saturated: no renewal that could still let it accept */
/* witness: expired iff W-age > TTL: possibly from real age EXP_MAY on, surely from EXP_SURE on */
#define EXP_MAY        (TTL - DRIFT(TTL) + 1)
#define EXP_SURE       (TTL + DRIFT(TTL) + 1)
/* SAFETY needs only "possibly expired" (a failed acquire changes nothing there) */
#ifdef BOUNDED
#define W_SAT          EXP_SURE
#else
#define W_SAT          EXP_MAY
#endif
/* a node's renewal period (LIVE, PAUSE): between R_MIN and R_MAX real ticks */
#define R_MIN          (RENEW - DRIFT(RENEW))
#define R_MAX          (RENEW + DRIFT(RENEW))

/* ---- topology ---- */
#define NR 2            /* regions: 0 = region-1 (initially active), 1 = region-2 (standby) */
#define NN 4            /* nodes: node n belongs to region n/2 */
#define R1 0
#define R2 1
#define NOBODY 2

#define STANDBY 0
#define ACTIVE  1
#define FENCED  2

/* renewal slot of a node: one renewal in flight per node */
#define S_IDLE   0
#define S_REQ    1      /* renew(region, sEp) travelling to the witness; sAge = real age of its t0 */
#define S_ORPHAN 2      /* request of a crashed incarnation: may still reach the witness */
#define S_OK     3      /* success reply travelling back (sAge = age of t0) */
#define S_FAIL   4      /* failure reply: the lease is no longer the region's at epoch sEp */

/* watcher of a standby region; its read of the lease and the decision "expired" are folded into
   sending acquire (the witness re-checks everything atomically) */
#define W_IDLE 0
#define W_ACQ  1        /* acquire(region, wE) travelling to the witness */
#define W_OK   2        /* success reply: the region now holds epoch wE */
#define W_FAIL 3

/* ---- witness (one lease record) ---- */
byte holder = R1;
byte epoch = 1;
byte wAge = 0;          /* real ticks since renewedAt, saturating at W_SAT */
byte owner[MAX_EPOCH + 1];  /* ghost: the region that acquired each epoch */

/* ---- regions (state set by the region's coordinator) ---- */
byte role[NR];
byte rEpoch[NR];        /* epoch of an ACTIVE region (0 otherwise) */
byte age[NR];           /* real ticks since the freshest lastRenewStart among the region's nodes */

/* ---- nodes ---- */
bool alive[NN] = 1;
bool fenced[NN];        /* learned that the lease moved past its region's epoch */
byte sSt[NN];
byte sAge[NN];
byte sEp[NN];

/* ---- watchers ---- */
byte wSt[NR];
byte wE[NR];

#ifdef BOUNDED
byte sD[NN];            /* ticks the node's message has travelled on its current leg */
byte wD[NR];
byte rt[NN];            /* real ticks since the node last sent a renewal, saturating at R_MAX */
bool polled[NR];        /* the watcher polled in this tick already */
#endif
#ifdef LIVE
byte lossLeft = LOSS_BUDGET;
bool cut1;              /* region-1 partitioned away for good */
#endif
#ifdef REACH_FAILBACK
bool seen2;             /* ghost: region-2 has accepted */
#endif
#ifdef LIVE
byte refreshLeft = 1;   /* LIVE: how many witness leader changes may extend the lease */
#endif
#ifdef PAUSE
byte stallLeft;         /* region-1 stalled (sends nothing, processes nothing) while > 0 */
bool stallUsed;
#endif

/* ---- predicates ---- */
#define NODE_UP(n)   (alive[n] && role[(n)/2] == ACTIVE && !fenced[n])
#define ANY_UP(r)    (NODE_UP(2*(r)) || NODE_UP(2*(r)+1))
#define MAY_ACC(r)   (ANY_UP(r) && age[r] <= F_LAST)   /* a node of r accepts, drift adversarial */
#define SURE_ACC(r)  (ANY_UP(r) && age[r] <= F_SURE)   /* a node of r accepts whatever the drift */
#define REGION_UP(r) (alive[2*(r)] || alive[2*(r)+1])

#ifdef LIVE
#define REACH(r)      (!(cut1 && (r) == R1))
#ifdef UNBOUNDED_LOSS
#define LOSS_OK(r)    true          /* sanity check: without the loss bound liveness must fail */
#define LOSS_TAKE(r)  skip
#else
#define LOSS_OK(r)    ((r) == R1 || lossLeft > 0)
#define LOSS_TAKE(r)  if :: (r) == R2 -> lossLeft-- :: else fi
#endif
#define CRASH_OK(n)   ((n)/2 == R1)
#define RESTART_OK(n) false
#else
#define REACH(r)      true
#define LOSS_TAKE(r)  skip
#ifdef PAUSE
#define LOSS_OK(r)    false
#define CRASH_OK(n)   false
#define RESTART_OK(n) false
#else
#define LOSS_OK(r)    true
#define CRASH_OK(n)   true
#define RESTART_OK(n) true
#endif
#endif

#ifdef PAUSE
#define STALLED(n)   (stallLeft > 0 && (n)/2 == R1)
#else
#define STALLED(n)   false
#endif

#ifdef BOUNDED
#define RT_OK(n)     (rt[n] >= R_MIN)
#define SENT(n)      rt[n] = 0; sD[n] = 0
#define LEG(n)       sD[n] = 0
#define WLEG(r)      wD[r] = 0
#define POLL_OK(r)   (!polled[r])
#define POLLED(r)    polled[r] = 1
#else
#define RT_OK(n)     true
#define SENT(n)      skip
#define LEG(n)       skip
#define WLEG(r)      skip
#define POLL_OK(r)   true
#define POLLED(r)    skip
#endif

/* ---- node n: renewal ---- */
#define CAN_SEND(n)  (NODE_UP(n) && sSt[n] == S_IDLE && RT_OK(n) && !STALLED(n))
inline send(n) { sSt[n] = S_REQ; sAge[n] = 0; sEp[n] = rEpoch[(n)/2]; SENT(n) }

/* witness: renew(region, e) succeeds iff holder == region && epoch == e (even if expired) */
#define RENEWABLE(n) (holder == (n)/2 && epoch == sEp[n])
#define CAN_APPLY(n) ((sSt[n] == S_REQ || sSt[n] == S_ORPHAN) && REACH((n)/2))
inline apply(n) {
  if
  :: RENEWABLE(n) -> wAge = 0;
     if :: sSt[n] == S_REQ -> sSt[n] = S_OK :: else -> sSt[n] = S_IDLE; sEp[n] = 0 fi
  :: else ->
     if :: sSt[n] == S_REQ -> sSt[n] = S_FAIL; sAge[n] = 0 :: else -> sSt[n] = S_IDLE; sEp[n] = 0 fi
  fi;
  LEG(n)
}

/* node: lastRenewStart = max(lastRenewStart, t0), i.e. age = min(age, age of t0).
   A failed renewal shows an epoch newer than the node's own: the node is fenced. */
#define CAN_REPLY(n) ((sSt[n] == S_OK || sSt[n] == S_FAIL) && REACH((n)/2) && !STALLED(n))
inline reply(n) {
  if
  :: sSt[n] == S_OK && NODE_UP(n) && sEp[n] == rEpoch[(n)/2] ->
#ifdef BROKEN_FENCE
     age[(n)/2] = 0                                           /* WRONG: counted from the reply */
#else
     age[(n)/2] = (sAge[n] < age[(n)/2] -> sAge[n] : age[(n)/2])
#endif
  :: sSt[n] == S_FAIL && NODE_UP(n) && sEp[n] == rEpoch[(n)/2] -> fenced[n] = 1
  :: else -> skip
  fi;
  sSt[n] = S_IDLE; sAge[n] = 0; sEp[n] = 0; LEG(n)
}

#define CAN_LOSE(n)  (sSt[n] != S_IDLE && LOSS_OK((n)/2))
inline lose(n) { LOSS_TAKE((n)/2); sSt[n] = S_IDLE; sAge[n] = 0; sEp[n] = 0; LEG(n) }

/* crash: the process dies; a request already sent may still reach the witness */
#define CAN_CRASH(n) (alive[n] && CRASH_OK(n))
inline crash(n) {
  alive[n] = 0; fenced[n] = 0;
  if
  :: sSt[n] == S_REQ -> sSt[n] = S_ORPHAN; sAge[n] = 0
  :: sSt[n] == S_OK || sSt[n] == S_FAIL -> sSt[n] = S_IDLE; sAge[n] = 0; sEp[n] = 0; LEG(n)
  :: else -> skip
  fi
}

/* restart: a fresh process, no renewal of its own yet (see README: region-level age) */
#define CAN_RESTART(n) (!alive[n] && RESTART_OK(n))
inline restart(n) { alive[n] = 1 }

/* witness on etcd: a leader change extends every lease to its full TTL on the new leader's clock
   (etcd's lessor promotes them), even one that expired but was not yet revoked: the holder's
   lease age drops back to 0 without a renewal. SAFETY: at any time; LIVE: once (the witness
   stays up, so leader changes are bounded); PAUSE: off (it only postpones expiry). */
#ifdef LIVE
#define CAN_REFRESH   (holder != NOBODY && wAge > 0 && refreshLeft > 0)
#define REFRESH_TAKE  refreshLeft--
#else
#ifdef PAUSE
#define CAN_REFRESH   false
#else
#define CAN_REFRESH   (holder != NOBODY && wAge > 0)
#endif
#define REFRESH_TAKE  skip
#endif
inline refresh() { wAge = 0; REFRESH_TAKE }

/* ---- region r: watcher (standby) and coordinator ---- */
#define CAN_POLL(r)  (role[r] == STANDBY && REGION_UP(r) && wSt[r] == W_IDLE && wAge >= EXP_MAY && REACH(r))
inline poll(r) { wSt[r] = W_ACQ; wE[r] = epoch; WLEG(r); POLLED(r) }

/* witness: acquire(region, e) succeeds iff epoch == e && (holder == region || nobody || expired).
   Its expiry reading depends on drift: "expired" is possible from EXP_MAY, certain from EXP_SURE. */
#define ACQ_OK(r, X)   (epoch == wE[r] && wE[r] < MAX_EPOCH && (holder == (r) || holder == NOBODY || wAge >= X))
#define CAN_ACQ_YES(r) (wSt[r] == W_ACQ && REACH(r) && ACQ_OK(r, EXP_MAY))
#define CAN_ACQ_NO(r)  (wSt[r] == W_ACQ && REACH(r) && !ACQ_OK(r, EXP_SURE))
inline acqYes(r) {
  holder = r; epoch = wE[r] + 1; wAge = 0; owner[epoch] = r;
  wSt[r] = W_OK; wE[r] = epoch; WLEG(r)
}
inline acqNo(r) { wSt[r] = W_FAIL; wE[r] = 0; WLEG(r) }

/* on success: (drain: abstracted) then ACTIVE at the new epoch; its nodes must renew to accept */
#define CAN_ACQ_REPLY(r) ((wSt[r] == W_OK || wSt[r] == W_FAIL) && REACH(r))
inline acqReply(r) {
  if
  :: wSt[r] == W_OK && role[r] == STANDBY && REGION_UP(r) ->
     role[r] = ACTIVE; rEpoch[r] = wE[r]; age[r] = NEVER
  :: else -> skip
  fi;
  wSt[r] = W_IDLE; wE[r] = 0; WLEG(r)
}

#define CAN_WLOSE(r) (wSt[r] != W_IDLE && LOSS_OK(r))
inline wlose(r) { LOSS_TAKE(r); wSt[r] = W_IDLE; wE[r] = 0; WLEG(r) }

/* coordinator: a node was fenced -> the region is FENCED; after resync (abstracted) STANDBY */
#define CAN_FENCE(r)  (role[r] == ACTIVE && (fenced[2*(r)] || fenced[2*(r)+1]))
inline fence(r) { role[r] = FENCED; fenced[2*(r)] = 0; fenced[2*(r)+1] = 0 }
#define CAN_RESYNC(r) (role[r] == FENCED)
inline resync(r) { role[r] = STANDBY }

/* ---- state canonicalisation: forget what can no longer matter (README) ---- */
#ifdef BROKEN_FENCE
#define USEFUL_T0(n)    true
#else
#define USEFUL_T0(n)    (sAge[n] < age[(n)/2])
#endif
#define CUR(n)          (NODE_UP(n) && sEp[n] == rEpoch[(n)/2])   /* a reply could still act */
inline canonNode(n) {
  if
  :: sSt[n] == S_REQ && !(CUR(n) && RENEWABLE(n) && USEFUL_T0(n)) -> sAge[n] = NEVER   /* its t0 cannot help */
  :: else
  fi;
#ifndef BOUNDED
  /* SAFETY only (no delivery deadlines): a message whose arrival can change nothing is
     delivered, or dropped, now */
  if
  :: (sSt[n] == S_OK && !(CUR(n) && USEFUL_T0(n))) || (sSt[n] == S_FAIL && !CUR(n)) ||
     (sSt[n] == S_REQ && !RENEWABLE(n) && !CUR(n)) || (sSt[n] == S_ORPHAN && !RENEWABLE(n)) ->
     sSt[n] = S_IDLE; sAge[n] = 0; sEp[n] = 0
  :: else
  fi
#else
  skip
#endif
}
/* the two nodes of a region are interchangeable: keep them sorted (symmetry reduction) */
#ifdef BOUNDED
#define KEY(n) (((((((alive[n] * 2 + fenced[n]) * 5 + sSt[n]) * 32 + sAge[n]) * 8 + sEp[n]) * 4 + sD[n]) * 4) + rt[n])
#else
#define KEY(n) ((((alive[n] * 2 + fenced[n]) * 5 + sSt[n]) * 32 + sAge[n]) * 8 + sEp[n])
#endif
#define SWAP(x, a, b) t = x[a]; x[a] = x[b]; x[b] = t
inline sortRegion(r) {
  if
  :: KEY(2*(r)) > KEY(2*(r)+1) ->
     SWAP(alive, 2*(r), 2*(r)+1); SWAP(fenced, 2*(r), 2*(r)+1); SWAP(sSt, 2*(r), 2*(r)+1);
     SWAP(sAge, 2*(r), 2*(r)+1); SWAP(sEp, 2*(r), 2*(r)+1);
#ifdef BOUNDED
     SWAP(sD, 2*(r), 2*(r)+1); SWAP(rt, 2*(r), 2*(r)+1);
#endif
     t = 0
  :: else
  fi
}
/* Epochs are only compared with each other, so once no value refers to epoch 1 any more every
   epoch is renumbered one down: MAX_EPOCH bounds how many epochs are referred to at once, not
   how many failovers happen (any number of failovers and failbacks is explored). */
#define NOT1(x) ((x) != 1)
#define DEC(x) if :: (x) > 0 -> x-- :: else fi
inline shiftOnce() {
  if
  :: epoch > 1 && NOT1(rEpoch[0]) && NOT1(rEpoch[1]) && NOT1(wE[0]) && NOT1(wE[1]) &&
     NOT1(sEp[0]) && NOT1(sEp[1]) && NOT1(sEp[2]) && NOT1(sEp[3]) ->
     epoch--; DEC(rEpoch[0]); DEC(rEpoch[1]); DEC(wE[0]); DEC(wE[1]);
     DEC(sEp[0]); DEC(sEp[1]); DEC(sEp[2]); DEC(sEp[3]);
     t = 1;
     do
     :: t < MAX_EPOCH -> owner[t] = owner[t + 1]; t++
     :: else -> break
     od;
     owner[MAX_EPOCH] = 0; t = 0
  :: else
  fi
}
/* the newest epoch is at most MAX_EPOCH = 3, so two renumberings bring it down to 1 */
inline shiftEpochs() { shiftOnce(); shiftOnce() }
inline canon() {
  canonNode(0); canonNode(1); canonNode(2); canonNode(3);
  /* a region's freshness and epoch are reset before they can matter again */
  if :: !ANY_UP(0) -> age[0] = NEVER :: else fi;
  if :: !ANY_UP(1) -> age[1] = NEVER :: else fi;
  if :: role[0] != ACTIVE -> rEpoch[0] = 0 :: else fi;
  if :: role[1] != ACTIVE -> rEpoch[1] = 0 :: else fi;
#ifndef BOUNDED
  /* an acquire that can only fail, or a failure reply, changes nothing */
  if :: wSt[0] == W_FAIL || (wSt[0] == W_ACQ && (epoch != wE[0] || wE[0] >= MAX_EPOCH)) -> wSt[0] = W_IDLE; wE[0] = 0 :: else fi;
  if :: wSt[1] == W_FAIL || (wSt[1] == W_ACQ && (epoch != wE[1] || wE[1] >= MAX_EPOCH)) -> wSt[1] = W_IDLE; wE[1] = 0 :: else fi;
#endif
  sortRegion(0); sortRegion(1);
  shiftEpochs();
#ifdef REACH_FAILBACK
  if :: MAY_ACC(R2) -> seen2 = 1 :: else fi;
#endif
  skip
}

/* ---- time ---- */
#ifdef BOUNDED
/* what must happen before the next tick */
#define MSG_DUE(n)   (sSt[n] != S_IDLE && sD[n] >= MAX_DELAY && !(STALLED(n) && sSt[n] >= S_OK))
#define RENEW_DUE(n) (NODE_UP(n) && sSt[n] == S_IDLE && rt[n] >= R_MAX && !STALLED(n))
#define NODE_DUE(n)  (MSG_DUE(n) || RENEW_DUE(n))
#define REGION_DUE(r) ((wSt[r] != W_IDLE && wD[r] >= MAX_DELAY) || \
                       (CAN_POLL(r) && POLL_OK(r) && wAge >= EXP_SURE) || CAN_FENCE(r) || CAN_RESYNC(r))
#define TICK_OK      (!(NODE_DUE(0) || NODE_DUE(1) || NODE_DUE(2) || NODE_DUE(3) || REGION_DUE(0) || REGION_DUE(1)))
#else
#define TICK_OK      true
#endif

inline tick() {
  wAge = (wAge < W_SAT -> wAge + 1 : wAge);
  age[0] = (age[0] < NEVER -> age[0] + 1 : age[0]);
  age[1] = (age[1] < NEVER -> age[1] + 1 : age[1]);
  i = 0;
  do
  :: i < NN ->
     if
     :: sSt[i] == S_REQ || sSt[i] == S_OK -> sAge[i] = (sAge[i] < NEVER -> sAge[i] + 1 : sAge[i])
     :: else -> skip
     fi;
#ifdef BOUNDED
     rt[i] = (rt[i] < R_MAX -> rt[i] + 1 : rt[i]);
     sD[i] = (sSt[i] != S_IDLE && sD[i] < MAX_DELAY -> sD[i] + 1 : sD[i]);
#endif
     i++
  :: else -> break
  od;
  i = 0;
#ifdef BOUNDED
  wD[0] = (wSt[0] != W_IDLE && wD[0] < MAX_DELAY -> wD[0] + 1 : wD[0]);
  wD[1] = (wSt[1] != W_IDLE && wD[1] < MAX_DELAY -> wD[1] + 1 : wD[1]);
  polled[0] = 0; polled[1] = 0;
#endif
#ifdef PAUSE
  stallLeft = (stallLeft > 0 -> stallLeft - 1 : 0)
#else
  skip
#endif
}

/* a counterexample replayed with spin -t prints one line per event (printf is not executed by pan) */
mtype = { Send, Apply, Reply, Lose, Crash, Restart, AcquireSend, AcquireOk,
          AcquireNo, AcquireReply, AcquireLost, RegionFenced, RegionStandby, Partition, Stall, StallEnd,
          LeaderChange }
#define SHOW(what, x) printf("%e %d: lease r%d e%d wAge %d | region-1 role %d e%d age %d acc %d | region-2 role %d e%d age %d acc %d\n", \
  what, x + 1, holder + 1, epoch, wAge, role[0], rEpoch[0], age[0], MAY_ACC(0), role[1], rEpoch[1], age[1], MAY_ACC(1))
#define SHOW_TICK printf("Tick: lease r%d e%d wAge %d | region-1 role %d e%d age %d acc %d | region-2 role %d e%d age %d acc %d\n", \
  holder + 1, epoch, wAge, role[0], rEpoch[0], age[0], MAY_ACC(0), role[1], rEpoch[1], age[1], MAY_ACC(1))

#define NODE_EVENTS(n) \
  :: d_step { CAN_SEND(n)    -> send(n);    SHOW(Send, (n)/2) } \
  :: d_step { CAN_APPLY(n)   -> apply(n);   SHOW(Apply, (n)/2) } \
  :: d_step { CAN_REPLY(n)   -> reply(n);   SHOW(Reply, (n)/2) } \
  :: d_step { CAN_LOSE(n)    -> lose(n);    SHOW(Lose, (n)/2) } \
  :: d_step { CAN_CRASH(n)   -> crash(n);   SHOW(Crash, (n)/2) } \
  :: d_step { CAN_RESTART(n) -> restart(n); SHOW(Restart, (n)/2) }

#define REGION_EVENTS(r) \
  :: d_step { CAN_POLL(r) && POLL_OK(r) -> poll(r); SHOW(AcquireSend, r) } \
  :: d_step { CAN_ACQ_YES(r)   -> acqYes(r);   SHOW(AcquireOk, r) } \
  :: d_step { CAN_ACQ_NO(r)    -> acqNo(r);    SHOW(AcquireNo, r) } \
  :: d_step { CAN_ACQ_REPLY(r) -> acqReply(r); SHOW(AcquireReply, r) } \
  :: d_step { CAN_WLOSE(r)     -> wlose(r);    SHOW(AcquireLost, r) } \
  :: d_step { CAN_FENCE(r)     -> fence(r);    SHOW(RegionFenced, r) } \
  :: d_step { CAN_RESYNC(r)    -> resync(r);   SHOW(RegionStandby, r) }

active proctype world() {
  byte i;
  byte t;
  d_step {
    role[R1] = ACTIVE; rEpoch[R1] = 1; owner[1] = R1; role[R2] = STANDBY; rEpoch[R2] = 0;
    age[R1] = NEVER; age[R2] = NEVER;
    i = 0;
    do
    :: i < NN ->
#ifdef BOUNDED
       rt[i] = R_MAX;
#endif
       i++
    :: else -> break
    od;
    i = 0
  }
end:
  do
  :: atomic {      /* one event, then canonicalisation; only the resulting state is stored */
  if
  :: d_step { TICK_OK -> tick(); SHOW_TICK }
  NODE_EVENTS(0)
  NODE_EVENTS(1)
  NODE_EVENTS(2)
  NODE_EVENTS(3)
  REGION_EVENTS(0)
  REGION_EVENTS(1)
  :: d_step { CAN_REFRESH -> refresh(); SHOW(LeaderChange, holder) }
#ifdef LIVE
  :: d_step { !cut1 -> cut1 = 1; SHOW(Partition, R1) }   /* region-1 cut off for good */
#endif
#ifdef PAUSE
  :: d_step { !stallUsed -> stallUsed = 1; stallLeft = STALL_TICKS; SHOW(Stall, R1) }  /* < pause-budget */
  :: d_step { stallLeft > 0 -> stallLeft = 0; SHOW(StallEnd, R1) }                         /* ends early */
#endif
  fi;
  d_step { canon() }
  }
  od
}

/* ---- properties ---- */
#ifdef PAUSE
active proctype noFalseFailover() {
  atomic { !(holder == R1 && wAge < EXP_MAY) -> assert(holder == R1 && wAge < EXP_MAY) }
}
#else
#ifdef REACH_FAILBACK
/* sanity check (must FAIL): region-1 accepts again after region-2 accepted, i.e. the model does
   reach a failover and a failback */
active proctype noFailback() {
  atomic { seen2 && MAY_ACC(R1) -> assert(!(seen2 && MAY_ACC(R1))) }
}
#endif
active proctype oneAcceptingRegion() {
  atomic { MAY_ACC(R1) && MAY_ACC(R2) -> assert(!(MAY_ACC(R1) && MAY_ACC(R2))) }
}
#define OWN_EPOCH(r) (!MAY_ACC(r) || owner[rEpoch[r]] == (r))
active proctype acceptOnlyInOwnEpoch() {
  atomic { !(OWN_EPOCH(R1) && OWN_EPOCH(R2)) -> assert(OWN_EPOCH(R1) && OWN_EPOCH(R2)) }
}
#endif

#ifdef LIVE
#define R1_DEAD  (cut1 || !(alive[0] || alive[1]))
#define R2_ACC   SURE_ACC(R2)
ltl live { [] (R1_DEAD -> <> R2_ACC) }
#endif
