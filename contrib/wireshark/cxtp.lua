-- Wireshark dissector for CXTP (RFC 4067) as the strongSwan cxtp plugin
-- encodes it: CTAR/CTAA between mobile node and access router over ICMPv6
-- type 150 / ICMPv4 type 41, subtype 1 (RFC 4065 Experimental Mobility), and
-- the access routers' own UDP transport (port 5091), whose messages are
-- encrypted: only its header is shown.
--
-- Load it with  tshark -X lua_script:contrib/wireshark/cxtp.lua ...
-- or copy it into the personal Lua plugins folder (Wireshark's
-- "About > Folders", ~/.local/lib/wireshark/plugins/ on Linux).
--
-- The wire formats are described in src/libcharon/plugins/cxtp/
-- cxtp_message.h (messages and their extensions), cxtp_icmp.h (ICMP framing),
-- cxtp_transport.h (UDP datagrams) and cxtp_encode.h (context data).
--
-- Wireshark's ICMPv6 dissector has no table for the subtypes of type 150 and
-- decodes every one as FMIPv6 with ND options, so a CTAR shows as a malformed
-- option ("Invalid option length (Zero)"), and never tries the heuristic
-- dissectors registered on "icmpv6" for it. So this script takes the
-- "ip.proto" entries of ICMPv6 (58) and ICMP (1): a type 150 / 41 message of
-- subtype 1 is dissected here, every other ICMP message goes to the built-in
-- dissector unchanged.
--
-- Every length is checked before it is read: input of any shape decodes
-- with expert info and without a Lua error.

local ICMPV6_TYPE = 150
local ICMPV4_TYPE = 41
local SUBTYPE = 1
local HOP_LIMIT = 255
local VERSION = 1
local TRANSPORT_VERSION = 2
local TRANSPORT_HEADER = 28
local TRANSPORT_ICV = 16
local TRANSPORT_HANDSHAKE = 28 + TRANSPORT_ICV
local CTAA_MAC_LEN = 12
local IKE_REQUEST_MAX = 2048
local KEY_MAX_LEN = 64

local CTAR, CTAA, CTD, PCTD, CTDR, CTC, CTREQ = 1, 2, 3, 4, 5, 6, 7
local type_names = {
	[CTAR] = "CTAR", [CTAA] = "CTAA", [CTD] = "CTD", [PCTD] = "PCTD",
	[CTDR] = "CTDR", [CTC] = "CTC", [CTREQ] = "CT-Req",
}
local type_descs = {
	[CTAR] = "Context Transfer Activate Request",
	[CTAA] = "Context Transfer Activate Acknowledge",
	[CTD] = "Context Transfer Data",
	[PCTD] = "Predictive Context Transfer Data",
	[CTDR] = "Context Transfer Data Reply",
	[CTC] = "Context Transfer Cancel",
	[CTREQ] = "Context Transfer Request",
}
local fpt_names = {
	[0xff01] = "IKE_SA", [0xff02] = "CHILD_SA", [0xff03] = "PAD entry",
}
local status_names = {
	[0x00] = "success", [0x01] = "failed", [0x80] = "activated",
	[0x81] = "cancelled", [0x82] = "no context", [0x83] = "superseded",
}

-- attributes of the context data (cxtp_encode.c); keys are shown only if
-- the preference says so
local attr_names = {
	[0xff01] = {
		[1] = "version", [2] = "IKE SPI i", [3] = "IKE SPI r",
		[4] = "initiator", [5] = "encryption", [6] = "integrity",
		[7] = "PRF", [8] = "key exchange", [9] = "message IDs",
		[10] = "lifetimes", [11] = "local address", [12] = "remote address",
		[13] = "local identity", [14] = "remote identity",
		[15] = "remote EAP identity", [16] = "conditions",
		[17] = "extensions", [18] = "remote virtual IP", [19] = "pool",
		[20] = "peer config", [21] = "transfers", [22] = "SK_d",
		[23] = "SK_ai", [24] = "SK_ar", [25] = "SK_ei", [26] = "SK_er",
		[27] = "SK_pi", [28] = "SK_pr",
	},
	[0xff02] = {
		[1] = "version", [2] = "child config", [3] = "protocol and mode",
		[4] = "SPIs", [5] = "encryption", [6] = "integrity", [7] = "ESN",
		[8] = "initiator", [9] = "local TS", [10] = "remote TS",
		[11] = "replay state", [12] = "replay bitmap", [13] = "lifetimes",
		[14] = "encryption key i", [15] = "encryption key r",
		[16] = "integrity key i", [17] = "integrity key r",
	},
	[0xff03] = {
		[1] = "version", [2] = "identity", [3] = "authentication",
		[4] = "certificate subject", [5] = "secret",
	},
}
local attr_keys = {
	[0xff01] = { [22] = true, [23] = true, [24] = true, [25] = true,
				 [26] = true, [27] = true, [28] = true },
	[0xff02] = { [14] = true, [15] = true, [16] = true, [17] = true },
	[0xff03] = { [5] = true },
}
local attr_strings = {
	[0xff01] = { [19] = true, [20] = true },
	[0xff02] = { [2] = true },
	[0xff03] = {},
}
local attr_hosts = {
	[0xff01] = { [11] = true, [12] = true, [18] = true },
	[0xff02] = {},
	[0xff03] = {},
}

local band, rshift = bit.band, bit.rshift

---------------------------------------------------------------------------
-- CXTP messages

local cxtp = Proto("cxtp", "Context Transfer Protocol (RFC 4067)")

local f = {
	version = ProtoField.uint8("cxtp.version", "Version", base.DEC, nil, 0xe0),
	type = ProtoField.uint8("cxtp.type", "Type", base.DEC, type_names, 0x1f),
	flags = ProtoField.uint8("cxtp.flags", "Flags", base.HEX),
	flag_v = ProtoField.bool("cxtp.flags.v", "V (IPv4 addresses)", 8, nil, 0x80),
	flag_a = ProtoField.bool("cxtp.flags.a", "A (acknowledge)", 8, nil, 0x40),
	flag_s = ProtoField.bool("cxtp.flags.s", "S (success)", 8, nil, 0x40),
	flag_k = ProtoField.bool("cxtp.flags.k", "K (token key)", 8, nil, 0x20),
	flag_m = ProtoField.bool("cxtp.flags.m", "M (MAC)", 8, nil, 0x20),
	flag_r = ProtoField.bool("cxtp.flags.r", "R (transfer ID)", 8, nil, 0x10),
	flag_b = ProtoField.bool("cxtp.flags.b", "B (CTAR binding)", 8, nil, 0x08),
	flag_i = ProtoField.bool("cxtp.flags.i", "I (IKE request)", 8, nil, 0x04),
	length = ProtoField.uint16("cxtp.length", "Length", base.DEC),
	elapsed = ProtoField.uint32("cxtp.elapsed", "Elapsed time (ms)", base.DEC),
	mn4 = ProtoField.ipv4("cxtp.mn", "MN's previous address"),
	mn6 = ProtoField.ipv6("cxtp.mn6", "MN's previous address"),
	ar4 = ProtoField.ipv4("cxtp.ar", "Access router address"),
	ar6 = ProtoField.ipv6("cxtp.ar6", "Access router address"),
	tid = ProtoField.none("cxtp.tid", "Transfer ID"),
	tid_spi_i = ProtoField.uint64("cxtp.tid.spi_i", "IKE SPI i", base.HEX),
	tid_spi_r = ProtoField.uint64("cxtp.tid.spi_r", "IKE SPI r", base.HEX),
	tid_serial = ProtoField.uint32("cxtp.tid.serial", "Serial", base.DEC),
	seq = ProtoField.uint32("cxtp.seq", "Sequence number", base.DEC),
	token = ProtoField.uint32("cxtp.token", "Authorization token", base.HEX),
	mac = ProtoField.bytes("cxtp.mac", "MAC"),
	src_len = ProtoField.uint8("cxtp.ctar.src_len", "CTAR source length", base.DEC),
	dst_len = ProtoField.uint8("cxtp.ctar.dst_len", "CTAR destination length", base.DEC),
	ctar_src4 = ProtoField.ipv4("cxtp.ctar.src", "CTAR source"),
	ctar_src6 = ProtoField.ipv6("cxtp.ctar.src6", "CTAR source"),
	ctar_dst4 = ProtoField.ipv4("cxtp.ctar.dst", "CTAR destination"),
	ctar_dst6 = ProtoField.ipv6("cxtp.ctar.dst6", "CTAR destination"),
	reserved = ProtoField.bytes("cxtp.reserved", "Reserved"),
	ike_len = ProtoField.uint16("cxtp.ike.length", "IKE request length", base.DEC),
	ike = ProtoField.bytes("cxtp.ike", "IKE request"),
	padding = ProtoField.bytes("cxtp.padding", "Padding"),
	key_alg = ProtoField.uint16("cxtp.key.alg", "Token algorithm", base.DEC,
								{ [1] = "HMAC_SHA1" }),
	key_len = ProtoField.uint16("cxtp.key.length", "Token key length", base.DEC),
	key = ProtoField.bytes("cxtp.key", "Token key"),
	cdb = ProtoField.none("cxtp.cdb", "Context data block"),
	cdb_fpt = ProtoField.uint16("cxtp.cdb.fpt", "Feature profile type", base.HEX, fpt_names),
	cdb_len = ProtoField.uint8("cxtp.cdb.length", "Length (8-octet words)", base.DEC),
	cdb_flags = ProtoField.uint8("cxtp.cdb.flags", "Flags", base.HEX),
	cdb_flag_p = ProtoField.bool("cxtp.cdb.flags.p", "P (presence vector)", 8, nil, 0x80),
	cdb_flag_c = ProtoField.bool("cxtp.cdb.flags.c", "C (continued)", 8, nil, 0x40),
	cdb_presence = ProtoField.uint32("cxtp.cdb.presence", "Presence vector", base.HEX),
	cdb_part = ProtoField.bytes("cxtp.cdb.part", "Data part"),
	cdb_data_len = ProtoField.uint32("cxtp.cdb.data_length", "Data length", base.DEC),
	attr = ProtoField.none("cxtp.attr", "Attribute"),
	attr_type = ProtoField.uint16("cxtp.attr.type", "Type", base.DEC),
	attr_len = ProtoField.uint16("cxtp.attr.length", "Length", base.DEC),
	attr_value = ProtoField.bytes("cxtp.attr.value", "Value"),
	attr_string = ProtoField.string("cxtp.attr.string", "Value"),
	attr_port = ProtoField.uint16("cxtp.attr.port", "Port", base.DEC),
	attr_addr4 = ProtoField.ipv4("cxtp.attr.address", "Address"),
	attr_addr6 = ProtoField.ipv6("cxtp.attr.address6", "Address"),
	status = ProtoField.none("cxtp.status", "Status"),
	status_fpt = ProtoField.uint16("cxtp.status.fpt", "Feature profile type", base.HEX, fpt_names),
	status_code = ProtoField.uint8("cxtp.status.code", "Status", base.HEX, status_names),
}
cxtp.fields = f

local e = {
	malformed = ProtoExpert.new("cxtp.malformed", "Malformed CXTP message",
		expert.group.MALFORMED, expert.severity.ERROR),
	version = ProtoExpert.new("cxtp.version.unsupported", "Unsupported version",
		expert.group.UNDECODED, expert.severity.ERROR),
	flag = ProtoExpert.new("cxtp.flags.unexpected", "Flag without meaning here",
		expert.group.PROTOCOL, expert.severity.WARN),
	value = ProtoExpert.new("cxtp.value.invalid", "Value a router rejects",
		expert.group.PROTOCOL, expert.severity.WARN),
	icmp = ProtoExpert.new("cxtp.icmp.type", "Message type never sent over ICMP",
		expert.group.PROTOCOL, expert.severity.WARN),
	keys = ProtoExpert.new("cxtp.cleartext_keys", "Key material in cleartext",
		expert.group.SECURITY, expert.severity.WARN),
	cut = ProtoExpert.new("cxtp.capture_cut", "Frame cut by the capture",
		expert.group.UNDECODED, expert.severity.NOTE),
	context = ProtoExpert.new("cxtp.context.malformed",
		"Context data a router does not decode", expert.group.MALFORMED,
		expert.severity.ERROR),
}
cxtp.experts = { e.malformed, e.version, e.flag, e.value, e.icmp, e.keys,
				 e.cut, e.context }

cxtp.prefs.show_keys = Pref.bool("Show key material", false,
	"Show the octets of keys in decrypted context data, not only their length")

-- a cursor over a message with checked reads: each read returns nil (and
-- marks the message malformed once) when the message is too short
local Reader = {}
Reader.__index = Reader

local function reader(tvb, tree, what)
	return setmetatable({ tvb = tvb, off = 0, tree = tree, what = what,
						  bad = false,
						  cut = tvb:len() < tvb:reported_length_remaining() },
						Reader)
end

function Reader:left()
	return self.tvb:len() - self.off
end

function Reader:malformed(item, text)
	self.bad = true
	;(item or self.tree):add_proto_expert_info(e.malformed, text)
end

-- take LEN octets as a range, or mark the message truncated in WHAT
function Reader:take(len, what)
	if len < 0 or self:left() < len then
		if self.cut and not self.bad then
			-- a snaplen, not the sender, cut it short
			self.bad = true
			self.tree:add_proto_expert_info(e.cut, string.format("capture " ..
				"ends in the %s", what))
			return nil
		end
		self:malformed(nil, string.format("%s truncated in the %s (%d octets " ..
			"needed, %d left)", self.what, what, len, math.max(self:left(), 0)))
		return nil
	end
	local r = self.tvb:range(self.off, len)
	self.off = self.off + len
	return r
end

local function is_zero(range)
	for i = 0, range:len() - 1 do
		if range:range(i, 1):uint() ~= 0 then
			return false
		end
	end
	return true
end

local function address_text(range)
	if range:len() == 4 then
		return tostring(range:ipv4())
	end
	return tostring(range:ipv6())
end

local function add_address(tree, field4, field6, range)
	if range:len() == 4 then
		return tree:add(field4, range)
	end
	return tree:add(field6, range)
end

-- the context data attributes of one block, from a tvb of its data
local function dissect_attributes(tvb, tree, fpt)
	local names = attr_names[fpt]
	local off = 0
	if not names then
		tree:add(f.attr_value, tvb:range())
		return
	end
	while off < tvb:len() do
		if tvb:len() - off < 4 then
			tree:add_proto_expert_info(e.context, "context data truncated " ..
				"in an attribute header")
			return
		end
		local atype = tvb:range(off, 2):uint()
		local alen = tvb:range(off + 2, 2):uint()
		local name = names[atype] or ("unknown attribute " .. atype)
		if tvb:len() - off - 4 < alen then
			local t = tree:add(f.attr, tvb:range(off))
			t:set_text(name .. " (overruns the data)")
			t:add_proto_expert_info(e.context, string.format("attribute %d " ..
				"announces %d octets, %d left", atype, alen, tvb:len() - off - 4))
			return
		end
		local t = tree:add(f.attr, tvb:range(off, 4 + alen))
		t:add(f.attr_type, tvb:range(off, 2)):append_text(" (" .. name .. ")")
		t:add(f.attr_len, tvb:range(off + 2, 2))
		local value = alen > 0 and tvb:range(off + 4, alen) or nil
		if not names[atype] then
			t:add_proto_expert_info(e.context, "unknown attribute, decoding fails")
		end
		if not value then
			t:set_text(name .. ": (empty)")
		elseif attr_keys[fpt][atype] then
			t:add_proto_expert_info(e.keys, name .. " in cleartext")
			if cxtp.prefs.show_keys then
				t:add(f.attr_value, value)
			end
			t:set_text(string.format("%s: %d octets of key material", name, alen))
		elseif attr_strings[fpt][atype] then
			t:add(f.attr_string, value)
			t:set_text(name .. ": " .. value:string())
		elseif attr_hosts[fpt][atype] and (alen == 6 or alen == 18) then
			t:add(f.attr_port, tvb:range(off + 4, 2))
			local a = tvb:range(off + 6, alen - 2)
			add_address(t, f.attr_addr4, f.attr_addr6, a)
			t:set_text(string.format("%s: %s port %d", name, address_text(a),
									 tvb:range(off + 4, 2):uint()))
		else
			t:add(f.attr_value, value)
			t:set_text(name .. ": " .. tostring(value:bytes()))
		end
		off = off + 4 + alen
	end
end

-- one logical context data block, made of one or more wire CDBs (all but
-- the last with the C flag), its data framed by a 32-bit length
local function dissect_data_cdb(rd, tree)
	local start = rd.off
	local block = tree:add(f.cdb, rd.tvb:range(rd.off, math.min(4, rd:left())))
	local parts, total, fpt, first = ByteArray.new(), 0, nil, true
	local last_item
	repeat
		if not first and rd:left() == 0 then
			rd:malformed(block, string.format("continued CDB for FPT 0x%04x " ..
				"is the last one", fpt))
			return false
		end
		local hdr = rd:take(4, "CDB header")
		if not hdr then
			return false
		end
		local wfpt, words, flags = hdr:range(0, 2):uint(), hdr:range(2, 1):uint(),
								   hdr:range(3, 1):uint()
		local w = block:add(f.cdb_fpt, hdr:range(0, 2))
		last_item = w
		if first then
			fpt = wfpt
		elseif wfpt ~= fpt then
			rd:malformed(w, string.format("continued CDB for FPT 0x%04x is " ..
				"followed by FPT 0x%04x", fpt, wfpt))
			return false
		end
		block:add(f.cdb_len, hdr:range(2, 1))
		local ft = block:add(f.cdb_flags, hdr:range(3, 1))
		ft:add(f.cdb_flag_p, hdr:range(3, 1))
		ft:add(f.cdb_flag_c, hdr:range(3, 1))
		if band(flags, 0x3f) ~= 0 then
			ft:add_proto_expert_info(e.flag, "reserved CDB flags set")
		end
		if words == 0 then
			rd:malformed(block, string.format("CDB for FPT 0x%04x has Length 0",
											  wfpt))
			return false
		end
		local body = rd:take(words * 8 - 4, "CDB for FPT " ..
							 string.format("0x%04x", wfpt))
		if not body then
			return false
		end
		if band(flags, 0x80) ~= 0 then
			if not first then
				rd:malformed(block, string.format("continued CDB for FPT 0x%04x " ..
					"repeats the presence vector", fpt))
				return false
			end
			block:add(f.cdb_presence, body:range(0, 4))
			body = body:len() > 4 and body:range(4) or nil
		end
		if body then
			block:add(f.cdb_part, body)
			parts:append(body:bytes())
			total = total + body:len()
		end
		first = false
	until band(flags, 0x40) == 0
	block:set_len(rd.off - start)
	block:set_text(string.format("Context data block: %s (FPT 0x%04x), %d " ..
		"octets", fpt_names[fpt] or "unknown", fpt, rd.off - start))
	if total < 4 then
		rd:malformed(block, string.format("CDB for FPT 0x%04x leaves no room " ..
			"for the data length", fpt))
		return false
	end
	local joined = parts:tvb("CDB " .. string.format("0x%04x", fpt))
	local len = joined:range(0, 4):uint()
	block:add(f.cdb_data_len, joined:range(0, 4))
	if len > total - 4 then
		rd:malformed(block, string.format("CDB for FPT 0x%04x announces %d " ..
			"octets of data but carries %d", fpt, len, total - 4))
		return false
	end
	if total - 4 - len >= 8 then
		rd:malformed(block, string.format("CDB for FPT 0x%04x leaves %d " ..
			"octets of padding", fpt, total - 4 - len))
		return false
	end
	if len > 0 then
		dissect_attributes(joined:range(4, len):tvb(), block, fpt)
	end
	return true
end

local function dissect_request_cdbs(rd, tree)
	while rd:left() > 0 do
		local r = rd:take(4, "request CDB")
		if not r then
			return
		end
		local t = tree:add(f.cdb, r)
		local fpt = r:range(0, 2):uint()
		t:set_text(string.format("Request block: %s (FPT 0x%04x)",
								 fpt_names[fpt] or "unknown", fpt))
		t:add(f.cdb_fpt, r:range(0, 2))
		local l = t:add(f.cdb_len, r:range(2, 1))
		t:add(f.cdb_flags, r:range(3, 1))
		if r:range(2, 1):uint() ~= 0 then
			rd:malformed(l, "request CDB has a Length, expected 0")
			return
		end
	end
end

local function dissect_statuses(rd, tree)
	local texts = {}
	while rd:left() > 0 do
		local r = rd:take(4, "status entry")
		if not r then
			break
		end
		local fpt, code = r:range(0, 2):uint(), r:range(2, 1):uint()
		local t = tree:add(f.status, r)
		t:add(f.status_fpt, r:range(0, 2))
		t:add(f.status_code, r:range(2, 1))
		local name = status_names[code] or string.format("0x%02x", code)
		t:set_text(string.format("Status: %s for %s", name,
								 fpt_names[fpt] or string.format("0x%04x", fpt)))
		texts[#texts + 1] = name
	end
	return table.concat(texts, ",")
end

local function flag_meanings(mtype)
	local m = { [0x80] = f.flag_v }
	if mtype == CTAR or mtype == CTREQ or mtype == CTD or mtype == PCTD then
		m[0x40] = f.flag_a
	end
	if mtype == CTDR then m[0x40] = f.flag_s end
	if mtype == CTD then m[0x20] = f.flag_k end
	if mtype == CTAA then m[0x20] = f.flag_m end
	if mtype == CTD or mtype == PCTD or mtype == CTDR or mtype == CTC then
		m[0x10] = f.flag_r
	end
	if mtype == CTREQ then
		m[0x08] = f.flag_b
		m[0x04] = f.flag_i
	end
	return m
end

-- dissect one CXTP message filling TVB; returns a short summary for the Info
-- column
local function dissect_message(tvb, pinfo, tree)
	local t = tree:add(cxtp, tvb:range())
	local rd = reader(tvb, t, "message")
	local hdr = rd:take(4, "header")
	if not hdr then
		return "CXTP (truncated)"
	end
	local b0 = hdr:range(0, 1):uint()
	local version, mtype = rshift(b0, 5), band(b0, 0x1f)
	local flags = hdr:range(1, 1):uint()
	local name = type_names[mtype] or ("type " .. mtype)
	rd.what = name
	local vi = t:add(f.version, hdr:range(0, 1))
	local ti = t:add(f.type, hdr:range(0, 1))
	if type_descs[mtype] then
		ti:append_text(" (" .. type_descs[mtype] .. ")")
	end
	t:append_text(", " .. name)
	local fi = t:add(f.flags, hdr:range(1, 1))
	local meanings = flag_meanings(mtype)
	for bitv = 0x80, 0x01, -1 do
		if meanings[bitv] then
			fi:add(meanings[bitv], hdr:range(1, 1))
		end
	end
	for bitv = 0, 7 do
		local v = bit.lshift(1, bitv)
		if band(flags, v) ~= 0 and not meanings[v] then
			fi:add_proto_expert_info(e.flag, string.format("flag 0x%02x has no " ..
				"meaning in a %s, routers ignore it", v, name))
		end
	end
	local li = t:add(f.length, hdr:range(2, 2))
	if version ~= VERSION then
		vi:add_proto_expert_info(e.version, string.format("version %d, routers " ..
			"accept version %d only", version, VERSION))
		return name .. " (unsupported version)"
	end
	if not type_names[mtype] then
		ti:add_proto_expert_info(e.malformed, "unknown message type " .. mtype)
		return "CXTP unknown type " .. mtype
	end
	local len = hdr:range(2, 2):uint()
	local size = tvb:reported_length_remaining()
	if len ~= size then
		li:add_proto_expert_info(e.malformed, string.format("Length says %d " ..
			"octets, the message has %d", len, size))
		if len < tvb:len() and len >= 4 then
			-- decode what the Length covers, as the trailing octets are not
			-- part of the message
			rd.tvb = tvb:range(0, len):tvb()
		end
	end

	local summary = { name }
	local v4 = band(flags, 0x80) ~= 0
	local alen = v4 and 4 or 16
	if mtype == CTD or mtype == PCTD then
		local r = rd:take(4, "elapsed time")
		if not r then return name end
		t:add(f.elapsed, r)
	end
	local mn = rd:take(alen, "MN's previous address")
	if not mn then return name end
	add_address(t, f.mn4, f.mn6, mn)
	summary[#summary + 1] = "MN " .. address_text(mn)
	if band(flags, 0x10) ~= 0 and (mtype == CTD or mtype == PCTD or
								   mtype == CTDR or mtype == CTC) then
		local r = rd:take(20, "transfer ID")
		if not r then return table.concat(summary, " ") end
		local ti2 = t:add(f.tid, r)
		ti2:add(f.tid_spi_i, r:range(0, 8))
		ti2:add(f.tid_spi_r, r:range(8, 8))
		local si = ti2:add(f.tid_serial, r:range(16, 4))
		ti2:set_text(string.format("Transfer ID: %s_i %s_r serial %d",
			tostring(r:range(0, 8):bytes()):lower(),
			tostring(r:range(8, 8):bytes()):lower(), r:range(16, 4):uint()))
		if r:range(16, 4):uint() == 0 then
			rd:malformed(si, "transfer ID with serial 0")
			return table.concat(summary, " ")
		end
		summary[#summary + 1] = "serial " .. r:range(16, 4):uint()
	end

	if mtype == CTAR or mtype == CTREQ then
		if mtype == CTAR then
			local r = rd:take(alen, "access router address")
			if not r then return table.concat(summary, " ") end
			add_address(t, f.ar4, f.ar6, r)
			summary[#summary + 1] = "pAR " .. address_text(r)
		else
			local has_i, has_b = band(flags, 0x04) ~= 0, band(flags, 0x08) ~= 0
			if has_i and has_b then
				rd:malformed(fi, "CT-Req carries both a CTAR's addresses and " ..
					"an IKE request")
				return table.concat(summary, " ")
			end
			if has_i then
				local r = rd:take(4, "IKE request's length")
				if not r then return table.concat(summary, " ") end
				local ilen = r:range(0, 2):uint()
				local il = t:add(f.ike_len, r:range(0, 2))
				t:add(f.reserved, r:range(2, 2))
				if ilen == 0 or ilen > IKE_REQUEST_MAX then
					rd:malformed(il, string.format("IKE request of %d octets, " ..
						"expected 1 to %d", ilen, IKE_REQUEST_MAX))
					return table.concat(summary, " ")
				end
				local padded = ilen + (4 - ilen % 4) % 4
				local req = rd:take(padded, "IKE request")
				if not req then return table.concat(summary, " ") end
				local ii = t:add(f.ike, req:range(0, ilen))
				if padded > ilen then
					t:add(f.padding, req:range(ilen))
				end
				local isakmp = Dissector.get("isakmp")
				if isakmp then
					-- the IKE dissector may flag its own findings; they are not
					-- errors of this dissector
					pcall(Dissector.call, isakmp, req:range(0, ilen):tvb(),
						  pinfo, ii)
				end
				summary[#summary + 1] = string.format("IKE request %d octets", ilen)
			elseif has_b then
				local r = rd:take(alen, "access router address")
				if not r then return table.concat(summary, " ") end
				add_address(t, f.ar4, f.ar6, r)
				local lens = rd:take(4, "CTAR's address lengths")
				if not lens then return table.concat(summary, " ") end
				local sl, dl = lens:range(0, 1):uint(), lens:range(1, 1):uint()
				local sli = t:add(f.src_len, lens:range(0, 1))
				local dli = t:add(f.dst_len, lens:range(1, 1))
				t:add(f.reserved, lens:range(2, 2))
				if sl ~= 4 and sl ~= 16 then
					rd:malformed(sli, "CTAR source length " .. sl ..
								 ", expected 4 or 16")
					return table.concat(summary, " ")
				end
				if dl ~= 4 and dl ~= 16 then
					rd:malformed(dli, "CTAR destination length " .. dl ..
								 ", expected 4 or 16")
					return table.concat(summary, " ")
				end
				local s = rd:take(sl, "CTAR's source address")
				if not s then return table.concat(summary, " ") end
				add_address(t, f.ctar_src4, f.ctar_src6, s)
				local d = rd:take(dl, "CTAR's destination address")
				if not d then return table.concat(summary, " ") end
				add_address(t, f.ctar_dst4, f.ctar_dst6, d)
			end
		end
		local r = rd:take(8, "sequence number and token")
		if not r then return table.concat(summary, " ") end
		local qi = t:add(f.seq, r:range(0, 4))
		t:add(f.token, r:range(4, 4))
		if mtype == CTREQ and band(flags, 0x04) ~= 0 and not is_zero(r) then
			qi:add_proto_expert_info(e.value, "a CT-Req with an IKE request " ..
				"carries sequence number and token 0")
		end
		table.insert(summary, 2, "seq " .. r:range(0, 4):uint())
		dissect_request_cdbs(rd, t)
	elseif mtype == CTD or mtype == PCTD then
		if mtype == PCTD or band(flags, 0x20) ~= 0 then
			local r = rd:take(4, "key algorithm and length")
			if not r then return table.concat(summary, " ") end
			local alg, klen = r:range(0, 2):uint(), r:range(2, 2):uint()
			local ai = t:add(f.key_alg, r:range(0, 2))
			local ki = t:add(f.key_len, r:range(2, 2))
			if alg ~= 1 then
				rd:malformed(ai, "unsupported token algorithm " .. alg)
				return table.concat(summary, " ")
			end
			if klen == 0 or klen > KEY_MAX_LEN then
				rd:malformed(ki, string.format("key length %d, expected 1 to %d",
											   klen, KEY_MAX_LEN))
				return table.concat(summary, " ")
			end
			local key = rd:take(klen + (4 - klen % 4) % 4, "token key")
			if not key then return table.concat(summary, " ") end
			local kt = t:add(f.key, key:range(0, klen))
			kt:add_proto_expert_info(e.keys, "token key in cleartext")
			if not cxtp.prefs.show_keys then
				kt:set_text(string.format("Token key: %d octets", klen))
			end
		end
		while rd:left() > 0 and dissect_data_cdb(rd, t) do end
	elseif mtype == CTAA or mtype == CTDR then
		if mtype == CTAA and band(flags, 0x20) ~= 0 then
			local r = rd:take(4 + CTAA_MAC_LEN, "sequence number or MAC")
			if not r then return table.concat(summary, " ") end
			t:add(f.seq, r:range(0, 4))
			t:add(f.mac, r:range(4, CTAA_MAC_LEN))
			table.insert(summary, 2, "seq " .. r:range(0, 4):uint())
		end
		local st = dissect_statuses(rd, t)
		if st ~= "" then
			summary[#summary + 1] = "status " .. st
		end
	elseif mtype == CTC then
		if rd:left() > 0 then
			local r = rd.tvb:range(rd.off)
			rd:malformed(t:add(f.padding, r), string.format("%d unexpected " ..
				"octets after the MN's previous address", r:len()))
		end
	end
	return table.concat(summary, " ")
end

-- the columns are set after the message, as the IKE request a CT-Req carries
-- has the IKE dissector set them too
function cxtp.dissector(tvb, pinfo, tree)
	pinfo.cols.info = dissect_message(tvb, pinfo, tree)
	pinfo.cols.protocol = "CXTP"
	return tvb:len()
end

---------------------------------------------------------------------------
-- ICMP: CTAR and CTAA between mobile node and access router

local ipv6_src = Field.new("ipv6.src")
local ipv6_dst = Field.new("ipv6.dst")
local ipv6_hlim = Field.new("ipv6.hlim")
local ip_ttl = Field.new("ip.ttl")

-- the last value of a field in this packet (the innermost IP header)
local function last(field)
	local all = { field() }
	return all[#all]
end

local function checksum(bytes)
	local sum = 0
	local n = bytes:len()
	for i = 0, n - 2, 2 do
		sum = sum + bytes:get_index(i) * 256 + bytes:get_index(i + 1)
	end
	if n % 2 == 1 then
		sum = sum + bytes:get_index(n - 1) * 256
	end
	while sum > 0xffff do
		sum = band(sum, 0xffff) + rshift(sum, 16)
	end
	return sum
end

local function make_icmp(v6)
	local pname = v6 and "cxtp_icmpv6" or "cxtp_icmp"
	local p = Proto(pname, v6 and "ICMPv6 Experimental Mobility (CXTP)" or
					"ICMP Experimental Mobility (CXTP)")
	local hf = {
		type = ProtoField.uint8(pname .. ".type", "Type", base.DEC),
		code = ProtoField.uint8(pname .. ".code", "Code", base.DEC),
		checksum = ProtoField.uint16(pname .. ".checksum", "Checksum", base.HEX),
		subtype = ProtoField.uint8(pname .. ".subtype", "Subtype", base.DEC,
								   { [SUBTYPE] = "CXTP" }),
		reserved = ProtoField.bytes(pname .. ".reserved", "Reserved"),
	}
	p.fields = hf
	local ex = {
		checksum = ProtoExpert.new(pname .. ".checksum.bad", "Bad checksum",
			expert.group.CHECKSUM, expert.severity.ERROR),
		hop = ProtoExpert.new(pname .. ".hop_limit", "Hop limit not 255",
			expert.group.SECURITY, expert.severity.WARN),
		field = ProtoExpert.new(pname .. ".field", "Field a router rejects",
			expert.group.PROTOCOL, expert.severity.WARN),
	}
	p.experts = { ex.checksum, ex.hop, ex.field }

	local ip_table = DissectorTable.get("ip.proto")
	local proto_number = v6 and 58 or 1
	local builtin = ip_table:get_dissector(proto_number)
	local our_type = v6 and ICMPV6_TYPE or ICMPV4_TYPE

	function p.dissector(tvb, pinfo, tree)
		if tvb:len() < 8 or tvb:range(0, 1):uint() ~= our_type or
		   tvb:range(4, 1):uint() ~= SUBTYPE then
			if builtin then
				return builtin:call(tvb, pinfo, tree)
			end
			return 0
		end
		pinfo.cols.protocol = "CXTP"
		local t = tree:add(p, tvb:range(0, 8))
		t:add(hf.type, tvb:range(0, 1))
		local ci = t:add(hf.code, tvb:range(1, 1))
		if tvb:range(1, 1):uint() ~= 0 then
			ci:add_proto_expert_info(ex.field, "code is not 0, routers drop it")
		end
		local cs = t:add(hf.checksum, tvb:range(2, 2))
		if tvb:len() == tvb:reported_length_remaining() then
			local sum = checksum(tvb:range():bytes())
			if v6 then
				local src, dst = last(ipv6_src), last(ipv6_dst)
				if src and dst then
					local pseudo = ByteArray.new()
					pseudo:append(src.range:bytes())
					pseudo:append(dst.range:bytes())
					pseudo:append(ByteArray.new(string.format("%08x000000%02x",
						tvb:len(), 58)))
					sum = checksum(ByteArray.new(string.format("%04x%04x",
						sum, checksum(pseudo))))
				else
					sum = nil
				end
			end
			if sum == 0xffff then
				cs:append_text(" [correct]")
			elseif sum then
				cs:append_text(" [incorrect]")
				cs:add_proto_expert_info(ex.checksum, "bad ICMP checksum")
			end
		end
		t:add(hf.subtype, tvb:range(4, 1))
		t:add(hf.reserved, tvb:range(5, 3))
		local hop = last(v6 and ipv6_hlim or ip_ttl)
		if hop and hop.value ~= HOP_LIMIT then
			t:add_proto_expert_info(ex.hop, string.format("hop limit %d: routers " ..
				"drop CXTP ICMP messages that did not originate on the link " ..
				"(RFC 4067 section 3.2)", hop.value))
		end
		if tvb:len() == 8 then
			t:add_proto_expert_info(e.malformed, "no CXTP message after the header")
			pinfo.cols.info = "CXTP (empty)"
			return tvb:len()
		end
		local body = tvb:range(8):tvb()
		local info = dissect_message(body, pinfo, tree)
		local mtype = band(body:range(0, 1):uint(), 0x1f)
		if mtype ~= CTAR and mtype ~= CTAA then
			t:add_proto_expert_info(e.icmp, string.format("only CTAR and CTAA " ..
				"travel over ICMP, routers drop a %s here",
				type_names[mtype] or ("type " .. mtype)))
		end
		pinfo.cols.info = info
		pinfo.cols.protocol = "CXTP"
		return tvb:len()
	end

	ip_table:add(proto_number, p)
	return p
end

make_icmp(true)
make_icmp(false)

---------------------------------------------------------------------------
-- UDP: the access routers' transport (cxtp_transport.h)

local transport = Proto("cxtp_udp", "CXTP AR-to-AR transport")
local tf = {
	version = ProtoField.uint8("cxtp_udp.version", "Version", base.DEC),
	type = ProtoField.uint8("cxtp_udp.type", "Type", base.DEC,
							{ [1] = "data", [2] = "handshake", [3] = "batch" }),
	reserved = ProtoField.uint16("cxtp_udp.reserved", "Reserved", base.HEX),
	sender_epoch = ProtoField.uint64("cxtp_udp.sender_epoch", "Sender epoch", base.HEX),
	receiver_epoch = ProtoField.uint64("cxtp_udp.receiver_epoch", "Receiver epoch", base.HEX),
	seq = ProtoField.uint64("cxtp_udp.seq", "Sequence number", base.DEC),
	challenge = ProtoField.uint64("cxtp_udp.challenge", "Challenge", base.HEX),
	echo = ProtoField.uint64("cxtp_udp.echo", "Echo", base.HEX),
	encrypted = ProtoField.bytes("cxtp_udp.encrypted", "Encrypted CXTP message"),
	encrypted_len = ProtoField.uint32("cxtp_udp.encrypted_length",
									  "Encrypted message length", base.DEC),
	icv = ProtoField.bytes("cxtp_udp.icv", "ICV"),
}
transport.fields = tf
local te = {
	malformed = ProtoExpert.new("cxtp_udp.malformed", "Malformed datagram",
		expert.group.MALFORMED, expert.severity.ERROR),
	field = ProtoExpert.new("cxtp_udp.field", "Field a router rejects",
		expert.group.PROTOCOL, expert.severity.WARN),
	cut = ProtoExpert.new("cxtp_udp.capture_cut", "Datagram cut by the capture",
		expert.group.UNDECODED, expert.severity.NOTE),
}
transport.experts = { te.malformed, te.field, te.cut }
transport.prefs.port = Pref.uint("UDP port", 5091,
	"UDP port of the transport (charon.plugins.cxtp.port)")

function transport.dissector(tvb, pinfo, tree)
	pinfo.cols.protocol = "CXTP/UDP"
	local t = tree:add(transport, tvb:range())
	if tvb:len() < 4 then
		t:add_proto_expert_info(te.malformed, string.format("datagram of %d " ..
			"octets is shorter than its header", tvb:len()))
		pinfo.cols.info = "CXTP transport (truncated)"
		return tvb:len()
	end
	local vi = t:add(tf.version, tvb:range(0, 1))
	local ti = t:add(tf.type, tvb:range(1, 1))
	local ri = t:add(tf.reserved, tvb:range(2, 2))
	local version, dtype = tvb:range(0, 1):uint(), tvb:range(1, 1):uint()
	if tvb:range(2, 2):uint() ~= 0 then
		ri:add_proto_expert_info(te.field, "reserved octets are not zero")
	end
	if version ~= TRANSPORT_VERSION then
		vi:add_proto_expert_info(te.field, string.format("version %d, routers " ..
			"accept version %d only", version, TRANSPORT_VERSION))
		pinfo.cols.info = "CXTP transport, unsupported version " .. version
		return tvb:len()
	end
	if dtype == 2 then
		local size = tvb:reported_length_remaining()
		if size ~= TRANSPORT_HANDSHAKE then
			t:add_proto_expert_info(te.malformed, string.format("handshake of " ..
				"%d octets, expected %d", size, TRANSPORT_HANDSHAKE))
		end
		if tvb:len() < TRANSPORT_HANDSHAKE then
			if size >= TRANSPORT_HANDSHAKE then
				t:add_proto_expert_info(te.cut, "capture ends in the handshake")
			end
			pinfo.cols.info = "CXTP handshake (truncated)"
			return tvb:len()
		end
		local se = t:add(tf.sender_epoch, tvb:range(4, 8))
		local ch = tvb:range(12, 8)
		local echo = tvb:range(20, 8)
		t:add(tf.challenge, ch)
		t:add(tf.echo, echo)
		t:add(tf.icv, tvb:range(28, TRANSPORT_ICV))
		if is_zero(tvb:range(4, 8)) then
			se:add_proto_expert_info(te.field, "epoch 0 is never picked")
		end
		local what = {}
		if not is_zero(ch) then what[#what + 1] = "challenge" end
		if not is_zero(echo) then what[#what + 1] = "answer" end
		pinfo.cols.info = "CXTP handshake" ..
			(#what > 0 and " (" .. table.concat(what, ", ") .. ")" or "") ..
			", epoch " .. tostring(tvb:range(4, 8):bytes()):lower()
		t:append_text(", handshake")
		return tvb:len()
	end
	-- a batch (a drain's several messages, each after its length) has the
	-- data datagram's header; the lengths are encrypted with the messages
	local name = dtype == 3 and "batch" or "data"
	if dtype ~= 1 and dtype ~= 3 then
		ti:add_proto_expert_info(te.malformed, "unknown datagram type " .. dtype)
		pinfo.cols.info = "CXTP transport, unknown type " .. dtype
		return tvb:len()
	end
	local size = tvb:reported_length_remaining()
	if size < TRANSPORT_HEADER + TRANSPORT_ICV + 4 then
		t:add_proto_expert_info(te.malformed, string.format("%s datagram of " ..
			"%d octets is shorter than header, ICV and a message header",
			name, size))
		pinfo.cols.info = "CXTP " .. name .. " (truncated)"
		return tvb:len()
	end
	if tvb:len() < TRANSPORT_HEADER then
		t:add_proto_expert_info(te.cut, "capture ends in the header")
		pinfo.cols.info = "CXTP " .. name
		return tvb:len()
	end
	local se = t:add(tf.sender_epoch, tvb:range(4, 8))
	local re = t:add(tf.receiver_epoch, tvb:range(12, 8))
	local si = t:add(tf.seq, tvb:range(20, 8))
	if is_zero(tvb:range(4, 8)) then
		se:add_proto_expert_info(te.field, "epoch 0 is never picked")
	end
	if is_zero(tvb:range(12, 8)) then
		re:add_proto_expert_info(te.field, "receiver epoch 0: the sender " ..
			"sends only after the handshake")
	end
	if is_zero(tvb:range(20, 8)) then
		si:add_proto_expert_info(te.field, "sequence numbers start at 1")
	end
	local elen = size - TRANSPORT_HEADER - TRANSPORT_ICV
	local ei
	if tvb:len() > TRANSPORT_HEADER then
		ei = t:add(tf.encrypted, tvb:range(TRANSPORT_HEADER,
					math.min(elen, tvb:len() - TRANSPORT_HEADER)))
		ei:append_text(" (AES-GCM, per-direction key from the peers' secret)")
	else
		ei = t
	end
	ei:add(tf.encrypted_len, elen)
	if tvb:len() == size then
		t:add(tf.icv, tvb:range(TRANSPORT_HEADER + elen, TRANSPORT_ICV))
	else
		t:add_proto_expert_info(te.cut, string.format("capture cut the " ..
			"datagram at %d of %d octets", tvb:len(), size))
	end
	local seq = tvb:range(20, 8):uint64()
	pinfo.cols.info = string.format("CXTP %s seq %s, %d octets encrypted",
									name, tostring(seq), elen)
	t:append_text(", " .. name .. " seq " .. tostring(seq))
	return tvb:len()
end

local udp_table = DissectorTable.get("udp.port")
local registered_port = transport.prefs.port
udp_table:add(registered_port, transport)

function transport.prefs_changed()
	if registered_port ~= transport.prefs.port then
		udp_table:remove(registered_port, transport)
		registered_port = transport.prefs.port
		udp_table:add(registered_port, transport)
	end
end

-- cleartext messages (a decrypted export, a test harness) on any UDP port
-- with "Decode As..."
pcall(function() udp_table:add_for_decode_as(cxtp) end)
