{{/* Names ------------------------------------------------------------------------------ */}}

{{- define "tavana.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tavana.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Component names stay short enough for StatefulSet pod names and their revision labels. */}}
{{- define "tavana.gateway.fullname" -}}
{{- printf "%s-gateway" (include "tavana.fullname" .) }}
{{- end }}

{{- define "tavana.executor.fullname" -}}
{{- printf "%s-executor" (include "tavana.fullname" .) }}
{{- end }}

{{- define "tavana.secretName" -}}
{{- default (include "tavana.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "tavana.gateway.serviceAccountName" -}}
{{- if .Values.gateway.serviceAccount.create }}
{{- default (include "tavana.gateway.fullname" .) .Values.gateway.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.gateway.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tavana.executor.serviceAccountName" -}}
{{- if .Values.executor.serviceAccount.create }}
{{- default (include "tavana.executor.fullname" .) .Values.executor.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.executor.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tavana.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Labels ----------------------------------------------------------------------------- */}}

{{- define "tavana.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "tavana.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tavana
{{- end }}

{{/* Selector labels of one component: (dict "ctx" $ "component" "gateway") */}}
{{- define "tavana.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tavana.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tavana.componentLabels" -}}
{{ include "tavana.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Executors ------------------------------------------------------------------------- */}}

{{/* "true" when the gateway's scaler owns the executor count (else empty). */}}
{{- define "tavana.scaler.ownsReplicas" -}}
{{- if and .Values.scaler.enabled .Values.scaler.replicas.enabled }}true{{ end }}
{{- end }}

{{/* The most executors that can exist: the scaler's or the HPA's maximum, or the fixed count. */}}
{{- define "tavana.executor.maxReplicas" -}}
{{- if include "tavana.scaler.ownsReplicas" . }}
{{- .Values.scaler.replicas.maxReplicas | int }}
{{- else if .Values.executor.autoscaling.enabled }}
{{- .Values.executor.autoscaling.maxReplicas | int }}
{{- else }}
{{- .Values.executor.replicas | int }}
{{- end }}
{{- end }}

{{/*
WORKER_ADDR: one stable address per StatefulSet ordinal, up to the most executors that can
exist. The gateway health-checks each and routes only to those that answer, so ordinals not
running yet are skipped until the HPA or the scaler starts them; tickets and prepared-statement handles name
the executor by this address, so it must be stable (a Service address would not be).
*/}}
{{- define "tavana.workerAddr" -}}
{{- $name := include "tavana.executor.fullname" . }}
{{- $addrs := list }}
{{- range $i := until (include "tavana.executor.maxReplicas" . | int) }}
{{- $addrs = append $addrs (printf "http://%s-%d.%s.%s.svc.%s:%d" $name $i $name $.Release.Namespace $.Values.clusterDomain ($.Values.executor.grpcPort | int)) }}
{{- end }}
{{- join "," $addrs }}
{{- end }}

{{/*
MAX_MEMORY_GB: executor.maxMemoryGB, or memoryFraction × the container memory limit (accepts
Gi, Mi, G, M suffixes). Fails without either: DuckDB's default is 80% of the node's memory.
*/}}
{{- define "tavana.executor.maxMemoryGB" -}}
{{- $explicit := toString .Values.executor.maxMemoryGB }}
{{- if and $explicit (ne $explicit "<nil>") }}
{{- $explicit }}
{{- else }}
{{- $limit := toString (dig "limits" "memory" "" .Values.executor.resources) }}
{{- $gib := 0.0 }}
{{- if hasSuffix "Gi" $limit }}
{{- $gib = float64 (trimSuffix "Gi" $limit) }}
{{- else if hasSuffix "Mi" $limit }}
{{- $gib = divf (float64 (trimSuffix "Mi" $limit)) 1024 }}
{{- else if hasSuffix "G" $limit }}
{{- $gib = divf (mulf (float64 (trimSuffix "G" $limit)) 1000000000) 1073741824 }}
{{- else if hasSuffix "M" $limit }}
{{- $gib = divf (mulf (float64 (trimSuffix "M" $limit)) 1000000) 1073741824 }}
{{- else }}
{{- fail (printf "executor: set executor.maxMemoryGB, or executor.resources.limits.memory with a Gi/Mi/G/M suffix (got %q)" $limit) }}
{{- end }}
{{- $value := mulf $gib (float64 .Values.executor.memoryFraction) }}
{{- if le $value 0.0 }}
{{- fail "executor: the computed DuckDB memory limit is not positive; check executor.memoryFraction" }}
{{- end }}
{{- /* two decimals: enough for DuckDB, stable text for the checksum */}}
{{- divf (floor (mulf $value 100)) 100 }}
{{- end }}
{{- end }}

{{/* Pod pieces ------------------------------------------------------------------------ */}}

{{- define "tavana.metricsAnnotations" -}}
{{- if .ctx.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}

{{/* Admin-port probes: (dict "port" "admin") */}}
{{- define "tavana.probes" -}}
startupProbe:
  httpGet: {path: /readyz, port: {{ .port }}}
  periodSeconds: 2
  failureThreshold: 60
readinessProbe:
  httpGet: {path: /readyz, port: {{ .port }}}
  periodSeconds: 5
  failureThreshold: 2
livenessProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end }}

{{- define "tavana.commonEnv" -}}
- name: TAVANA_HOST
  value: "0.0.0.0"
- name: LOG_LEVEL
  value: {{ .Values.log.level | quote }}
- name: LOG_FORMAT
  value: {{ .Values.log.format | quote }}
- name: TAVANA_SHUTDOWN_GRACE_SECS
  value: {{ .Values.shutdownGraceSeconds | quote }}
{{- end }}

{{- define "tavana.tlsEnv" -}}
{{- if .Values.tls.enabled }}
- name: TLS_ENABLED
  value: "true"
- name: TLS_CERT
  value: /etc/tavana/tls/tls.crt
- name: TLS_KEY
  value: /etc/tavana/tls/tls.key
{{- end }}
{{- end }}


{{/* Scaler ---------------------------------------------------------------------------- */}}

{{/* The name of the Lease the gateways elect the one active scaler with (granted in rbac.yaml). */}}
{{- define "tavana.scaler.leaseName" -}}
{{- printf "%s-scaler" (include "tavana.fullname" .) }}
{{- end }}

{{/* The chart's rules for the scaler values; included by every template they concern. */}}
{{- define "tavana.scaler.validate" -}}
{{- $s := .Values.scaler }}
{{- if $s.enabled }}
{{- if not (and .Values.rbac.create .Values.rbac.scaler) }}
{{- fail "scaler.enabled needs rbac.create=true and rbac.scaler=true: the gateway patches the executor StatefulSet and holds a Lease" }}
{{- end }}
{{- if or (le (int $s.intervalSeconds) 0) (lt (int $s.leaseSeconds) 2) }}
{{- fail "scaler.intervalSeconds must be at least 1 and scaler.leaseSeconds at least 2" }}
{{- end }}
{{- if not (or $s.replicas.enabled $s.memory.enabled) }}
{{- fail "scaler.enabled with neither scaler.replicas.enabled nor scaler.memory.enabled: nothing to scale" }}
{{- end }}
{{- if $s.replicas.enabled }}
{{- if .Values.executor.autoscaling.enabled }}
{{- fail "scaler.replicas.enabled and executor.autoscaling.enabled both set the executor count: give it one owner (executor.autoscaling.enabled=false, or scaler.replicas.enabled=false)" }}
{{- end }}
{{- if lt (int $s.replicas.maxReplicas) 1 }}
{{- fail "scaler.replicas.maxReplicas must be at least 1" }}
{{- end }}
{{- if gt (int $s.replicas.minReplicas) (int $s.replicas.maxReplicas) }}
{{- fail "scaler.replicas.minReplicas is above maxReplicas" }}
{{- end }}
{{- if le (float64 $s.replicas.queriesPerExecutor) 0.0 }}
{{- fail "scaler.replicas.queriesPerExecutor must be above 0" }}
{{- end }}
{{- end }}
{{- if $s.memory.enabled }}
{{- $explicit := toString .Values.executor.maxMemoryGB }}
{{- if and $explicit (ne $explicit "<nil>") }}
{{- fail "scaler.memory.enabled sets MAX_MEMORY_GB from the memory limit it raises: leave executor.maxMemoryGB empty" }}
{{- end }}
{{- $limit := dig "limits" "memory" "" .Values.executor.resources }}
{{- if not $limit }}
{{- fail "scaler.memory.enabled needs executor.resources.limits.memory: the scaler raises that limit" }}
{{- end }}
{{- if le (float64 $s.memory.step) 1.0 }}
{{- fail "scaler.memory.step must be above 1 (the limit is multiplied by it)" }}
{{- end }}
{{- if lt (int $s.memory.cooldownSeconds) 0 }}
{{- fail "scaler.memory.cooldownSeconds must not be negative" }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The gateway's scaler environment (TAVANA_SCALER_*), when scaler.enabled. */}}
{{- define "tavana.scalerEnv" -}}
{{- $s := .Values.scaler }}
{{- if $s.enabled }}
- name: TAVANA_SCALER
  value: "kubernetes"
- name: TAVANA_SCALER_NAMESPACE
  valueFrom:
    fieldRef: {fieldPath: metadata.namespace}
- name: TAVANA_SCALER_IDENTITY
  valueFrom:
    fieldRef: {fieldPath: metadata.name}
- name: TAVANA_SCALER_STATEFULSET
  value: {{ include "tavana.executor.fullname" . | quote }}
- name: TAVANA_SCALER_CONTAINER
  value: "executor"
- name: TAVANA_SCALER_LEASE
  value: {{ include "tavana.scaler.leaseName" . | quote }}
- name: TAVANA_SCALER_INTERVAL_SECS
  value: {{ $s.intervalSeconds | quote }}
- name: TAVANA_SCALER_LEASE_SECS
  value: {{ $s.leaseSeconds | quote }}
- name: TAVANA_SCALER_REPLICAS
  value: {{ if $s.replicas.enabled }}"true"{{ else }}"false"{{ end }}
{{- if $s.replicas.enabled }}
- name: TAVANA_SCALER_MIN_REPLICAS
  value: {{ $s.replicas.minReplicas | quote }}
- name: TAVANA_SCALER_MAX_REPLICAS
  value: {{ $s.replicas.maxReplicas | quote }}
- name: TAVANA_SCALER_QUERIES_PER_EXECUTOR
  value: {{ $s.replicas.queriesPerExecutor | quote }}
- name: TAVANA_SCALER_SCALE_DOWN_DELAY_SECS
  value: {{ $s.replicas.scaleDownDelaySeconds | quote }}
{{- end }}
{{- if $s.memory.enabled }}
- name: TAVANA_SCALER_MEMORY_MAX
  value: {{ $s.memory.max | quote }}
- name: TAVANA_SCALER_MEMORY_STEP
  value: {{ $s.memory.step | quote }}
- name: TAVANA_SCALER_MEMORY_COOLDOWN_SECS
  value: {{ $s.memory.cooldownSeconds | quote }}
- name: TAVANA_SCALER_MEMORY_FRACTION
  value: {{ .Values.executor.memoryFraction | quote }}
{{- end }}
{{- end }}
{{- end }}
