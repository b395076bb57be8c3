export * from './json-lines.js';
export { reportHosts, writeReports, foldExtraPorts, portRanges, mayBeOpen, PORTSCOUT_VERSION, EXTRAPORTS_THRESHOLD, type HostReport, type OsReport, type ReportInputEvent, type HostReportOptions, type HostName, type PortReport, type ServiceReport, type ExtraPorts, type ExtraReasons, type ReportBegin, type ReportSummary, type ReportEvent, type ReportFormatter, type ReportOutput } from './host-report.js';
export { writeNmapXml, createNmapXmlFormatter, xmlEscape, type NmapXmlOptions, type NmapXmlFormatterOptions } from './nmap-xml.js';
export { writeNormalOutput, createNormalFormatter, type NormalOutputOptions, type NormalFormatterOptions } from './normal-output.js';
export { writeGrepableOutput, createGrepableFormatter, type GrepableOutputOptions, type GrepableFormatterOptions } from './grepable-output.js';
