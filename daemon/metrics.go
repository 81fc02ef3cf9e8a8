package daemon

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// collector exports a stats snapshot as Prometheus metrics, taken at each
// scrape so the hot path keeps only its own counters.
type collector struct{ d *Daemon }

var (
	descPackets    = prometheus.NewDesc("vigil_packets_total", "Packets evaluated.", nil, nil)
	descBytes      = prometheus.NewDesc("vigil_bytes_total", "Frame bytes evaluated.", nil, nil)
	descDrops      = prometheus.NewDesc("vigil_drops_total", "Packets dropped under overload.", nil, nil)
	descDecodeErrs = prometheus.NewDesc("vigil_decode_errors_total", "Packets with malformed headers.", nil, nil)
	descAlerts     = prometheus.NewDesc("vigil_alerts_total", "Alerts raised.", nil, nil)
	descSensorPkts = prometheus.NewDesc("vigil_sensor_packets_total", "Packets received per connected sensor.", []string{"sensor"}, nil)
	descSensorDrop = prometheus.NewDesc("vigil_sensor_drops_total", "Packets dropped per connected sensor.", []string{"sensor"}, nil)
	descSensors    = prometheus.NewDesc("vigil_sensors_connected", "Connected sensors.", nil, nil)
	descRuleMatch  = prometheus.NewDesc("vigil_rule_matches_total", "Condition matches per rule.", []string{"sid"}, nil)
	descRuleEvals  = prometheus.NewDesc("vigil_rule_evaluations_total", "Condition evaluations per rule.", []string{"sid"}, nil)
	descRuleErrs   = prometheus.NewDesc("vigil_rule_errors_total", "Run-time errors per rule.", []string{"sid"}, nil)
	descRuleSecs   = prometheus.NewDesc("vigil_rule_seconds_total", "Evaluation time per rule.", []string{"sid"}, nil)
	descPublished  = prometheus.NewDesc("vigil_alerts_published_total", "Alerts delivered to NATS.", nil, nil)
	descPending    = prometheus.NewDesc("vigil_alerts_pending", "Alerts waiting for NATS (memory and spool).", nil, nil)
	descDropped    = prometheus.NewDesc("vigil_alerts_dropped_total", "Alerts that could not be kept.", nil, nil)
	descNotAlerted = prometheus.NewDesc("vigil_matches_not_alerted_total", "Matches held back, by reason (suppressed, thresholded, folded).", []string{"reason"}, nil)
	descClockStep  = prometheus.NewDesc("vigil_clock_steps_total", "Threshold and de-duplication windows restarted because packet time stepped back (daylight-saving fall-back, sensor clock reset).", nil, nil)
	descCompressed = prometheus.NewDesc("vigil_records_compressed_total", "Compressed NCF records, evaluated without decoding.", nil, nil)
	descConnIn     = prometheus.NewDesc("vigil_sensor_connections_accepted_total", "Sensor connections accepted.", nil, nil)
	descConnRefuse = prometheus.NewDesc("vigil_sensor_connections_refused_total", "Sensor connections refused, by reason (not_allowed, max_conns, max_conns_per_address, closing).", []string{"reason"}, nil)
	descConnDrop   = prometheus.NewDesc("vigil_sensor_connections_dropped_total", "Sensor connections dropped, by reason (idle, record_timeout, write_timeout, bad_header, truncated, read_error, write_error).", []string{"reason"}, nil)
	descConnClosed = prometheus.NewDesc("vigil_sensor_connections_disconnected_total", "Sensor connections that ended cleanly, or at shutdown.", nil, nil)
	descResponses  = prometheus.NewDesc("vigil_responses_total", "Response frames, by outcome: queued (taken by a sensor's inject queue), dropped (refused by it), sent (written to the sensor), failed (queued, never written).", []string{"outcome"}, nil)
	descRespHeld   = prometheus.NewDesc("vigil_responses_suppressed_total", "Responses held back by the caps, by reason.", []string{"reason"}, nil)
	descStreamSegs = prometheus.NewDesc("vigil_stream_segments_total", "TCP segments with data taken in by stream reassembly.", nil, nil)
	descStreamByte = prometheus.NewDesc("vigil_stream_bytes_total", "TCP stream bytes delivered in order.", nil, nil)
	descStreamAnom = prometheus.NewDesc("vigil_stream_events_total", "TCP reassembly events and anomalies, by kind.", []string{"kind"}, nil)
	descFlows      = prometheus.NewDesc("vigil_flows", "Flows held in the flow tables.", nil, nil)
	descFlowEvents = prometheus.NewDesc("vigil_flow_events_total", "Flows by event: created, evicted (to make room in a full table), expired (idle).", []string{"event"}, nil)
	descStreamMem  = prometheus.NewDesc("vigil_stream_memory_bytes", "Bytes held in TCP reassembly buffers.", nil, nil)
	descFragments  = prometheus.NewDesc("vigil_defrag_fragments_total", "IP fragments taken by the defragmenters.", nil, nil)
	descReassembly = prometheus.NewDesc("vigil_defrag_reassembled_total", "IP datagrams reassembled.", nil, nil)
	descPublishPkt = prometheus.NewDesc("vigil_cluster_packets_published_total", "Packets an ingest process published for evaluators.", nil, nil)
	descUnpublish  = prometheus.NewDesc("vigil_cluster_packets_unpublished_total", "Packets an ingest process could not publish, by reason (dropped: overload policy; lost: not stored by JetStream).", []string{"reason"}, nil)
	descPartitions = prometheus.NewDesc("vigil_cluster_partitions_owned", "Partitions this evaluator owns.", nil, nil)
	descPartLag    = prometheus.NewDesc("vigil_cluster_partition_lag", "Batches of a partition stored and not yet evaluated and acknowledged.", []string{"partition"}, nil)
	descPartGaps   = prometheus.NewDesc("vigil_cluster_partition_gaps_total", "Batches missing from a sensor connection's sequence on a partition, since this evaluator claimed it.", []string{"partition"}, nil)
	descDefragOdd  = prometheus.NewDesc("vigil_defrag_anomalies_total", "Defragmentation anomalies, by kind (invalid, overlap, tiny_first, too_many_fragments, oversize, timeout, memcap).", []string{"kind"}, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.d.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descPackets, s.Engine.Packets)
	counter(descBytes, s.Engine.Bytes)
	counter(descDrops, s.Engine.Drops)
	counter(descDecodeErrs, s.Engine.DecodeErrors)
	counter(descAlerts, s.Engine.Alerts)
	counter(descCompressed, s.Engine.Compressed)
	ch <- prometheus.MustNewConstMetric(descSensors, prometheus.GaugeValue, float64(len(s.Sensors.Sensors)))
	counter(descConnIn, s.Sensors.Accepted)
	counter(descConnClosed, s.Sensors.Disconnected)
	for reason, n := range s.Sensors.Refused {
		counter(descConnRefuse, n, reason)
	}
	for reason, n := range s.Sensors.Dropped {
		counter(descConnDrop, n, reason)
	}
	for _, sn := range s.Sensors.Sensors {
		counter(descSensorPkts, sn.Packets, sn.Name)
		counter(descSensorDrop, sn.Drops, sn.Name)
	}
	for _, r := range s.Rules {
		sid := strconv.Itoa(r.SID)
		counter(descRuleMatch, r.Matches, sid)
		counter(descRuleEvals, r.Evaluations, sid)
		counter(descRuleErrs, r.Errors, sid)
		ch <- prometheus.MustNewConstMetric(descRuleSecs, prometheus.CounterValue, r.Time.Seconds(), sid)
	}
	na := s.Engine.NotAlerted
	counter(descNotAlerted, na.Suppressed, "suppressed")
	counter(descNotAlerted, na.Thresholded, "thresholded")
	counter(descNotAlerted, na.Folded, "folded")
	counter(descClockStep, na.ClockSteps)
	rs := s.Engine.Responses
	counter(descResponses, rs.Queued, "queued")
	counter(descResponses, rs.Dropped, "dropped")
	counter(descResponses, rs.Sent, "sent")
	counter(descResponses, rs.Failed, "failed")
	for reason, n := range rs.Suppressed {
		counter(descRespHeld, n, reason)
	}
	st := s.Engine.Stream
	counter(descStreamSegs, st.Segments)
	counter(descStreamByte, st.Bytes)
	for _, e := range []struct {
		kind string
		n    uint64
	}{
		{"midstream", st.Midstream}, {"out_of_order", st.OutOfOrder}, {"retransmit", st.Retransmits},
		{"overlap", st.Overlaps}, {"gap", st.Gaps}, {"out_of_window", st.OutOfWindow},
		{"after_end", st.AfterEnd}, {"depth_reached", st.DepthReached}, {"memcap_drop", st.MemcapDrops},
	} {
		counter(descStreamAnom, e.n, e.kind)
	}
	ch <- prometheus.MustNewConstMetric(descStreamMem, prometheus.GaugeValue, float64(st.MemUsed))
	fl := s.Engine.Flows
	ch <- prometheus.MustNewConstMetric(descFlows, prometheus.GaugeValue, float64(fl.Active))
	counter(descFlowEvents, fl.Created, "created")
	counter(descFlowEvents, fl.Evicted, "evicted")
	counter(descFlowEvents, fl.Expired, "expired")
	df := s.Engine.Defrag
	counter(descFragments, df.Fragments)
	counter(descReassembly, df.Reassembled)
	counter(descDefragOdd, df.Invalid, "invalid")
	counter(descDefragOdd, df.Overlaps, "overlap")
	counter(descDefragOdd, df.TinyFirst, "tiny_first")
	counter(descDefragOdd, df.TooMany, "too_many_fragments")
	counter(descDefragOdd, df.Oversize, "oversize")
	counter(descDefragOdd, df.Timeouts, "timeout")
	counter(descDefragOdd, df.Memcap, "memcap")
	if in := s.Ingest; in != nil {
		counter(descPublishPkt, in.Packets)
		counter(descUnpublish, in.Dropped, "dropped")
		counter(descUnpublish, in.Lost, "lost")
	}
	if ev := s.Evaluator; ev != nil {
		ch <- prometheus.MustNewConstMetric(descPartitions, prometheus.GaugeValue, float64(len(ev.Partitions)))
		for n, p := range ev.Partitions {
			ch <- prometheus.MustNewConstMetric(descPartLag, prometheus.GaugeValue, float64(p.Lag), strconv.Itoa(n))
			counter(descPartGaps, p.Gaps, strconv.Itoa(n))
		}
	}
	counter(descPublished, s.Publisher.Published)
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(s.Publisher.Pending))
	counter(descDropped, s.Publisher.Dropped)
}

// serveMetrics serves /metrics on addr and returns its shutdown function.
func (d *Daemon) serveMetrics(addr string) (func(context.Context) error, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{d}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return d.serveHTTP("metrics", l, "/metrics", mux), nil
}

// serveHTTP serves h on l, logs its URL (path appended) as what, and
// returns its shutdown function, which also ends the requests still
// running (the console's event streams).
func (d *Daemon) serveHTTP(what string, l net.Listener, path string, h http.Handler) func(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	srv.RegisterOnShutdown(cancel)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error(what+" server stopped", "err", err)
		}
	}()
	d.log.Info(what, "url", "http://"+l.Addr().String()+path)
	return srv.Shutdown
}
