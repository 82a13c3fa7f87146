"""Demo county data for Shanhuo (山货): 遂昌县 / Suichang County, Lishui, Zhejiang.

Pure constants, read by the seed loader. Coordinates are WGS-84 degrees (5 decimals), money is
integer fen, weights grams, volumes cm³, times "HH:MM" local (Asia/Shanghai).
The data is a believable demo, not an official register: towns are real, most villages and all
people, numbers and certificates are invented.
"""

from __future__ import annotations

COUNTY = {
    "code": "331123",
    "name_zh": "遂昌县",
    "name_en": "Suichang County",
    "lat": 28.59200,
    "lon": 119.27600,
}

# ---------------------------------------------------------------------------------------------
# Zones: delivery areas with a road travel factor (1.0 on the valley floor around the county
# town, up to 1.6 on the winding mountain roads of the west).
# ---------------------------------------------------------------------------------------------
ZONES = [
    {
        "code": "Z-CENTRE",
        "name_zh": "城区片",
        "name_en": "County town",
        "terrain": "plain",
        "travel_factor": 1.0,
    },
    {
        "code": "Z-EAST",
        "name_zh": "东部河谷片",
        "name_en": "Eastern valley",
        "terrain": "valley",
        "travel_factor": 1.15,
    },
    {
        "code": "Z-NORTHEAST",
        "name_zh": "东北河谷片",
        "name_en": "North-eastern valley",
        "terrain": "valley",
        "travel_factor": 1.2,
    },
    {
        "code": "Z-SOUTH",
        "name_zh": "南部丘陵片",
        "name_en": "Southern hills",
        "terrain": "hill",
        "travel_factor": 1.3,
    },
    {
        "code": "Z-NORTH",
        "name_zh": "北部高山片",
        "name_en": "Northern uplands",
        "terrain": "mountain",
        "travel_factor": 1.5,
    },
    {
        "code": "Z-WEST",
        "name_zh": "西部山区片",
        "name_en": "Western mountains",
        "terrain": "mountain",
        "travel_factor": 1.6,
    },
]

# ---------------------------------------------------------------------------------------------
# Towns and townships (乡镇街道) of Suichang.
# ---------------------------------------------------------------------------------------------
TOWNS = [
    {"code": "T01", "name_zh": "妙高街道", "name_en": "Miaogao Subdistrict",
     "lat": 28.59200, "lon": 119.27600, "zone": "Z-CENTRE"},
    {"code": "T02", "name_zh": "云峰街道", "name_en": "Yunfeng Subdistrict",
     "lat": 28.57850, "lon": 119.30150, "zone": "Z-CENTRE"},
    {"code": "T03", "name_zh": "北界镇", "name_en": "Beijie Town",
     "lat": 28.65420, "lon": 119.39060, "zone": "Z-NORTHEAST"},
    {"code": "T04", "name_zh": "金竹镇", "name_en": "Jinzhu Town",
     "lat": 28.68730, "lon": 119.22540, "zone": "Z-NORTH"},
    {"code": "T05", "name_zh": "大柘镇", "name_en": "Dazhe Town",
     "lat": 28.52610, "lon": 119.36880, "zone": "Z-EAST"},
    {"code": "T06", "name_zh": "石练镇", "name_en": "Shilian Town",
     "lat": 28.46890, "lon": 119.28150, "zone": "Z-SOUTH"},
    {"code": "T07", "name_zh": "王村口镇", "name_en": "Wangcunkou Town",
     "lat": 28.37260, "lon": 119.08730, "zone": "Z-WEST"},
    {"code": "T08", "name_zh": "黄沙腰镇", "name_en": "Huangshayao Town",
     "lat": 28.55330, "lon": 118.98120, "zone": "Z-WEST"},
    {"code": "T09", "name_zh": "新路湾镇", "name_en": "Xinluwan Town",
     "lat": 28.63870, "lon": 119.32960, "zone": "Z-NORTHEAST"},
    {"code": "T10", "name_zh": "湖山乡", "name_en": "Hushan Township",
     "lat": 28.63120, "lon": 119.12460, "zone": "Z-NORTH"},
    {"code": "T11", "name_zh": "蔡源乡", "name_en": "Caiyuan Township",
     "lat": 28.67480, "lon": 119.30810, "zone": "Z-NORTHEAST"},
    {"code": "T12", "name_zh": "焦滩乡", "name_en": "Jiaotan Township",
     "lat": 28.53940, "lon": 119.16870, "zone": "Z-SOUTH"},
    {"code": "T13", "name_zh": "应村乡", "name_en": "Yingcun Township",
     "lat": 28.74260, "lon": 119.35180, "zone": "Z-NORTHEAST"},
    {"code": "T14", "name_zh": "高坪乡", "name_en": "Gaoping Township",
     "lat": 28.75310, "lon": 119.20870, "zone": "Z-NORTH"},
    {"code": "T15", "name_zh": "濂竹乡", "name_en": "Lianzhu Township",
     "lat": 28.70120, "lon": 119.12340, "zone": "Z-NORTH"},
    {"code": "T16", "name_zh": "龙洋乡", "name_en": "Longyang Township",
     "lat": 28.45830, "lon": 119.41270, "zone": "Z-EAST"},
    {"code": "T17", "name_zh": "柘岱口乡", "name_en": "Zhedaikou Township",
     "lat": 28.37650, "lon": 119.34120, "zone": "Z-SOUTH"},
    {"code": "T18", "name_zh": "西畈乡", "name_en": "Xifan Township",
     "lat": 28.43910, "lon": 119.19560, "zone": "Z-SOUTH"},
    {"code": "T19", "name_zh": "垵口乡", "name_en": "Ankou Township",
     "lat": 28.44270, "lon": 119.06150, "zone": "Z-WEST"},
    {"code": "T20", "name_zh": "三仁畲族乡", "name_en": "Sanren She Ethnic Township",
     "lat": 28.60210, "lon": 119.42380, "zone": "Z-EAST"},
]

# ---------------------------------------------------------------------------------------------
# Administrative villages (行政村). The first village of each town is its seat.
# ---------------------------------------------------------------------------------------------
VILLAGES = [
    # T01 妙高街道 — county town, valley floor of the 遂昌 basin
    {"code": "V001", "town": "T01", "name_zh": "上江村", "name_en": "Shangjiang Village",
     "lat": 28.58870, "lon": 119.27030, "zone": "Z-CENTRE", "elevation_m": 175},
    {"code": "V002", "town": "T01", "name_zh": "城北村", "name_en": "Chengbei Village",
     "lat": 28.60140, "lon": 119.27710, "zone": "Z-CENTRE", "elevation_m": 185},
    {"code": "V003", "town": "T01", "name_zh": "叶坦村", "name_en": "Yetan Village",
     "lat": 28.60620, "lon": 119.26050, "zone": "Z-CENTRE", "elevation_m": 192},
    {"code": "V004", "town": "T01", "name_zh": "梅溪村", "name_en": "Meixi Village",
     "lat": 28.57910, "lon": 119.26510, "zone": "Z-CENTRE", "elevation_m": 204},
    {"code": "V005", "town": "T01", "name_zh": "东门村", "name_en": "Dongmen Village",
     "lat": 28.59480, "lon": 119.28390, "zone": "Z-CENTRE", "elevation_m": 178},
    {"code": "V006", "town": "T01", "name_zh": "金岸村", "name_en": "Jin'an Village",
     "lat": 28.61380, "lon": 119.28640, "zone": "Z-CENTRE", "elevation_m": 236},
    # T02 云峰街道
    {"code": "V007", "town": "T02", "name_zh": "长濂村", "name_en": "Changlian Village",
     "lat": 28.56930, "lon": 119.30570, "zone": "Z-CENTRE", "elevation_m": 190},
    {"code": "V008", "town": "T02", "name_zh": "周公源村", "name_en": "Zhougongyuan Village",
     "lat": 28.55820, "lon": 119.32080, "zone": "Z-CENTRE", "elevation_m": 318},
    {"code": "V009", "town": "T02", "name_zh": "云峰村", "name_en": "Yunfeng Village",
     "lat": 28.57640, "lon": 119.29860, "zone": "Z-CENTRE", "elevation_m": 186},
    {"code": "V010", "town": "T02", "name_zh": "塘沿村", "name_en": "Tangyan Village",
     "lat": 28.58470, "lon": 119.31250, "zone": "Z-CENTRE", "elevation_m": 197},
    {"code": "V011", "town": "T02", "name_zh": "黄泥岭村", "name_en": "Huangniling Village",
     "lat": 28.56210, "lon": 119.28930, "zone": "Z-CENTRE", "elevation_m": 362},
    {"code": "V012", "town": "T02", "name_zh": "坑口村", "name_en": "Kengkou Village",
     "lat": 28.59030, "lon": 119.32740, "zone": "Z-CENTRE", "elevation_m": 258},
    # T03 北界镇
    {"code": "V013", "town": "T03", "name_zh": "北界村", "name_en": "Beijie Village",
     "lat": 28.65380, "lon": 119.38990, "zone": "Z-NORTHEAST", "elevation_m": 246},
    {"code": "V014", "town": "T03", "name_zh": "苏村村", "name_en": "Sucun Village",
     "lat": 28.66510, "lon": 119.40120, "zone": "Z-NORTHEAST", "elevation_m": 262},
    {"code": "V015", "town": "T03", "name_zh": "石坑口村", "name_en": "Shikengkou Village",
     "lat": 28.67690, "lon": 119.37520, "zone": "Z-NORTHEAST", "elevation_m": 412},
    {"code": "V016", "town": "T03", "name_zh": "淤头村", "name_en": "Yutou Village",
     "lat": 28.64220, "lon": 119.40860, "zone": "Z-NORTHEAST", "elevation_m": 255},
    {"code": "V017", "town": "T03", "name_zh": "大洞源村", "name_en": "Dadongyuan Village",
     "lat": 28.68350, "lon": 119.41370, "zone": "Z-NORTHEAST", "elevation_m": 524},
    {"code": "V018", "town": "T03", "name_zh": "上坪村", "name_en": "Shangping Village",
     "lat": 28.63560, "lon": 119.37140, "zone": "Z-NORTHEAST", "elevation_m": 331},
    # T04 金竹镇 — bamboo country
    {"code": "V019", "town": "T04", "name_zh": "金竹村", "name_en": "Jinzhu Village",
     "lat": 28.68690, "lon": 119.22480, "zone": "Z-NORTH", "elevation_m": 305},
    {"code": "V020", "town": "T04", "name_zh": "大畈村", "name_en": "Dafan Village",
     "lat": 28.69840, "lon": 119.23910, "zone": "Z-NORTH", "elevation_m": 332},
    {"code": "V021", "town": "T04", "name_zh": "汤山头村", "name_en": "Tangshantou Village",
     "lat": 28.67520, "lon": 119.21120, "zone": "Z-NORTH", "elevation_m": 384},
    {"code": "V022", "town": "T04", "name_zh": "下坪村", "name_en": "Xiaping Village",
     "lat": 28.70460, "lon": 119.21670, "zone": "Z-NORTH", "elevation_m": 408},
    {"code": "V023", "town": "T04", "name_zh": "竹坑村", "name_en": "Zhukeng Village",
     "lat": 28.66370, "lon": 119.23690, "zone": "Z-NORTH", "elevation_m": 452},
    {"code": "V024", "town": "T04", "name_zh": "平昌村", "name_en": "Pingchang Village",
     "lat": 28.71280, "lon": 119.24830, "zone": "Z-NORTH", "elevation_m": 518},
    {"code": "V025", "town": "T04", "name_zh": "石笋头村", "name_en": "Shisuntou Village",
     "lat": 28.69260, "lon": 119.19840, "zone": "Z-NORTH", "elevation_m": 643},
    # T05 大柘镇
    {"code": "V026", "town": "T05", "name_zh": "大柘村", "name_en": "Dazhe Village",
     "lat": 28.52580, "lon": 119.36830, "zone": "Z-EAST", "elevation_m": 184},
    {"code": "V027", "town": "T05", "name_zh": "大田村", "name_en": "Datian Village",
     "lat": 28.53620, "lon": 119.35410, "zone": "Z-EAST", "elevation_m": 195},
    {"code": "V028", "town": "T05", "name_zh": "车前村", "name_en": "Cheqian Village",
     "lat": 28.51370, "lon": 119.38240, "zone": "Z-EAST", "elevation_m": 211},
    {"code": "V029", "town": "T05", "name_zh": "万山村", "name_en": "Wanshan Village",
     "lat": 28.50430, "lon": 119.35520, "zone": "Z-EAST", "elevation_m": 377},
    {"code": "V030", "town": "T05", "name_zh": "茶园村", "name_en": "Chayuan Village",
     "lat": 28.54190, "lon": 119.38760, "zone": "Z-EAST", "elevation_m": 298},
    {"code": "V031", "town": "T05", "name_zh": "李坑村", "name_en": "Likeng Village",
     "lat": 28.51720, "lon": 119.39860, "zone": "Z-EAST", "elevation_m": 421},
    # T06 石练镇
    {"code": "V032", "town": "T06", "name_zh": "石练村", "name_en": "Shilian Village",
     "lat": 28.46850, "lon": 119.28090, "zone": "Z-SOUTH", "elevation_m": 290},
    {"code": "V033", "town": "T06", "name_zh": "淤溪村", "name_en": "Yuxi Village",
     "lat": 28.47960, "lon": 119.29740, "zone": "Z-SOUTH", "elevation_m": 284},
    {"code": "V034", "town": "T06", "name_zh": "后宅村", "name_en": "Houzhai Village",
     "lat": 28.45620, "lon": 119.27010, "zone": "Z-SOUTH", "elevation_m": 312},
    {"code": "V035", "town": "T06", "name_zh": "练溪村", "name_en": "Lianxi Village",
     "lat": 28.48320, "lon": 119.26540, "zone": "Z-SOUTH", "elevation_m": 301},
    {"code": "V036", "town": "T06", "name_zh": "大坑村", "name_en": "Dakeng Village",
     "lat": 28.44850, "lon": 119.29620, "zone": "Z-SOUTH", "elevation_m": 463},
    {"code": "V037", "town": "T06", "name_zh": "吴坑村", "name_en": "Wukeng Village",
     "lat": 28.46140, "lon": 119.25380, "zone": "Z-SOUTH", "elevation_m": 521},
    # T07 王村口镇 — far south-west, on the upper 乌溪江
    {"code": "V038", "town": "T07", "name_zh": "王村口村", "name_en": "Wangcunkou Village",
     "lat": 28.37210, "lon": 119.08680, "zone": "Z-WEST", "elevation_m": 305},
    {"code": "V039", "town": "T07", "name_zh": "桥西村", "name_en": "Qiaoxi Village",
     "lat": 28.37060, "lon": 119.08270, "zone": "Z-WEST", "elevation_m": 301},
    {"code": "V040", "town": "T07", "name_zh": "关塘村", "name_en": "Guantang Village",
     "lat": 28.38430, "lon": 119.10160, "zone": "Z-WEST", "elevation_m": 423},
    {"code": "V041", "town": "T07", "name_zh": "松坑村", "name_en": "Songkeng Village",
     "lat": 28.35980, "lon": 119.07130, "zone": "Z-WEST", "elevation_m": 562},
    {"code": "V042", "town": "T07", "name_zh": "上源村", "name_en": "Shangyuan Village",
     "lat": 28.39260, "lon": 119.07450, "zone": "Z-WEST", "elevation_m": 641},
    {"code": "V043", "town": "T07", "name_zh": "吴处村", "name_en": "Wuchu Village",
     "lat": 28.35410, "lon": 119.10280, "zone": "Z-WEST", "elevation_m": 718},
    # T08 黄沙腰镇 — far west
    {"code": "V044", "town": "T08", "name_zh": "黄沙腰村", "name_en": "Huangshayao Village",
     "lat": 28.55290, "lon": 118.98070, "zone": "Z-WEST", "elevation_m": 262},
    {"code": "V045", "town": "T08", "name_zh": "大洋村", "name_en": "Dayang Village",
     "lat": 28.56430, "lon": 118.96240, "zone": "Z-WEST", "elevation_m": 418},
    {"code": "V046", "town": "T08", "name_zh": "高岭村", "name_en": "Gaoling Village",
     "lat": 28.57120, "lon": 118.99560, "zone": "Z-WEST", "elevation_m": 684},
    {"code": "V047", "town": "T08", "name_zh": "林坑村", "name_en": "Linkeng Village",
     "lat": 28.54020, "lon": 118.96530, "zone": "Z-WEST", "elevation_m": 517},
    {"code": "V048", "town": "T08", "name_zh": "官岭村", "name_en": "Guanling Village",
     "lat": 28.53460, "lon": 119.00130, "zone": "Z-WEST", "elevation_m": 606},
    # T09 新路湾镇
    {"code": "V049", "town": "T09", "name_zh": "新路湾村", "name_en": "Xinluwan Village",
     "lat": 28.63820, "lon": 119.32910, "zone": "Z-NORTHEAST", "elevation_m": 214},
    {"code": "V050", "town": "T09", "name_zh": "蕉川村", "name_en": "Jiaochuan Village",
     "lat": 28.64910, "lon": 119.34280, "zone": "Z-NORTHEAST", "elevation_m": 232},
    {"code": "V051", "town": "T09", "name_zh": "南坪村", "name_en": "Nanping Village",
     "lat": 28.62740, "lon": 119.31420, "zone": "Z-NORTHEAST", "elevation_m": 241},
    {"code": "V052", "town": "T09", "name_zh": "上岗村", "name_en": "Shanggang Village",
     "lat": 28.65230, "lon": 119.31630, "zone": "Z-NORTHEAST", "elevation_m": 293},
    {"code": "V053", "town": "T09", "name_zh": "后坑村", "name_en": "Houkeng Village",
     "lat": 28.63010, "lon": 119.34720, "zone": "Z-NORTHEAST", "elevation_m": 352},
    # T10 湖山乡
    {"code": "V054", "town": "T10", "name_zh": "湖山村", "name_en": "Hushan Village",
     "lat": 28.63080, "lon": 119.12410, "zone": "Z-NORTH", "elevation_m": 251},
    {"code": "V055", "town": "T10", "name_zh": "红星坪村", "name_en": "Hongxingping Village",
     "lat": 28.61850, "lon": 119.13960, "zone": "Z-NORTH", "elevation_m": 268},
    {"code": "V056", "town": "T10", "name_zh": "东坑村", "name_en": "Dongkeng Village",
     "lat": 28.64260, "lon": 119.13820, "zone": "Z-NORTH", "elevation_m": 433},
    {"code": "V057", "town": "T10", "name_zh": "黄坛村", "name_en": "Huangtan Village",
     "lat": 28.62370, "lon": 119.10580, "zone": "Z-NORTH", "elevation_m": 479},
    {"code": "V058", "town": "T10", "name_zh": "石垄村", "name_en": "Shilong Village",
     "lat": 28.64650, "lon": 119.10870, "zone": "Z-NORTH", "elevation_m": 612},
    # T11 蔡源乡
    {"code": "V059", "town": "T11", "name_zh": "蔡源村", "name_en": "Caiyuan Village",
     "lat": 28.67440, "lon": 119.30760, "zone": "Z-NORTHEAST", "elevation_m": 322},
    {"code": "V060", "town": "T11", "name_zh": "大源村", "name_en": "Dayuan Village",
     "lat": 28.68610, "lon": 119.31940, "zone": "Z-NORTHEAST", "elevation_m": 418},
    {"code": "V061", "town": "T11", "name_zh": "箬坑村", "name_en": "Ruokeng Village",
     "lat": 28.66380, "lon": 119.29530, "zone": "Z-NORTHEAST", "elevation_m": 381},
    {"code": "V062", "town": "T11", "name_zh": "东峰村", "name_en": "Dongfeng Village",
     "lat": 28.68930, "lon": 119.29670, "zone": "Z-NORTHEAST", "elevation_m": 563},
    # T12 焦滩乡
    {"code": "V063", "town": "T12", "name_zh": "焦滩村", "name_en": "Jiaotan Village",
     "lat": 28.53890, "lon": 119.16820, "zone": "Z-SOUTH", "elevation_m": 212},
    {"code": "V064", "town": "T12", "name_zh": "独山村", "name_en": "Dushan Village",
     "lat": 28.54870, "lon": 119.15310, "zone": "Z-SOUTH", "elevation_m": 228},
    {"code": "V065", "town": "T12", "name_zh": "后畲村", "name_en": "Houshe Village",
     "lat": 28.52630, "lon": 119.17940, "zone": "Z-SOUTH", "elevation_m": 383},
    {"code": "V066", "town": "T12", "name_zh": "下田村", "name_en": "Xiatian Village",
     "lat": 28.55260, "lon": 119.18540, "zone": "Z-SOUTH", "elevation_m": 239},
    {"code": "V067", "town": "T12", "name_zh": "岭头村", "name_en": "Lingtou Village",
     "lat": 28.52140, "lon": 119.15060, "zone": "Z-SOUTH", "elevation_m": 516},
    # T13 应村乡
    {"code": "V068", "town": "T13", "name_zh": "应村村", "name_en": "Yingcun Village",
     "lat": 28.74210, "lon": 119.35120, "zone": "Z-NORTHEAST", "elevation_m": 422},
    {"code": "V069", "town": "T13", "name_zh": "桃源村", "name_en": "Taoyuan Village",
     "lat": 28.75330, "lon": 119.36470, "zone": "Z-NORTHEAST", "elevation_m": 478},
    {"code": "V070", "town": "T13", "name_zh": "周坑村", "name_en": "Zhoukeng Village",
     "lat": 28.73050, "lon": 119.33820, "zone": "Z-NORTHEAST", "elevation_m": 531},
    {"code": "V071", "town": "T13", "name_zh": "大岭村", "name_en": "Daling Village",
     "lat": 28.75890, "lon": 119.34060, "zone": "Z-NORTHEAST", "elevation_m": 677},
    {"code": "V072", "town": "T13", "name_zh": "坑西村", "name_en": "Kengxi Village",
     "lat": 28.73520, "lon": 119.36890, "zone": "Z-NORTHEAST", "elevation_m": 558},
    # T14 高坪乡 — high tea plateau
    {"code": "V073", "town": "T14", "name_zh": "高坪村", "name_en": "Gaoping Village",
     "lat": 28.75260, "lon": 119.20810, "zone": "Z-NORTH", "elevation_m": 823},
    {"code": "V074", "town": "T14", "name_zh": "茶树坪村", "name_en": "Chashuping Village",
     "lat": 28.76380, "lon": 119.22240, "zone": "Z-NORTH", "elevation_m": 884},
    {"code": "V075", "town": "T14", "name_zh": "箍桶丘村", "name_en": "Gutongqiu Village",
     "lat": 28.74190, "lon": 119.19460, "zone": "Z-NORTH", "elevation_m": 932},
    {"code": "V076", "town": "T14", "name_zh": "新处村", "name_en": "Xinchu Village",
     "lat": 28.77120, "lon": 119.19930, "zone": "Z-NORTH", "elevation_m": 961},
    {"code": "V077", "town": "T14", "name_zh": "杨坑村", "name_en": "Yangkeng Village",
     "lat": 28.74470, "lon": 119.22760, "zone": "Z-NORTH", "elevation_m": 764},
    # T15 濂竹乡
    {"code": "V078", "town": "T15", "name_zh": "濂竹村", "name_en": "Lianzhu Village",
     "lat": 28.70080, "lon": 119.12280, "zone": "Z-NORTH", "elevation_m": 357},
    {"code": "V079", "town": "T15", "name_zh": "治岭头村", "name_en": "Zhilingtou Village",
     "lat": 28.71260, "lon": 119.13560, "zone": "Z-NORTH", "elevation_m": 523},
    {"code": "V080", "town": "T15", "name_zh": "鸭坑村", "name_en": "Yakeng Village",
     "lat": 28.69140, "lon": 119.10730, "zone": "Z-NORTH", "elevation_m": 468},
    {"code": "V081", "town": "T15", "name_zh": "大马埠村", "name_en": "Damabu Village",
     "lat": 28.71830, "lon": 119.11150, "zone": "Z-NORTH", "elevation_m": 607},
    # T16 龙洋乡
    {"code": "V082", "town": "T16", "name_zh": "龙洋村", "name_en": "Longyang Village",
     "lat": 28.45790, "lon": 119.41210, "zone": "Z-EAST", "elevation_m": 334},
    {"code": "V083", "town": "T16", "name_zh": "际下村", "name_en": "Jixia Village",
     "lat": 28.44630, "lon": 119.42560, "zone": "Z-EAST", "elevation_m": 421},
    {"code": "V084", "town": "T16", "name_zh": "田岸村", "name_en": "Tian'an Village",
     "lat": 28.46820, "lon": 119.39870, "zone": "Z-EAST", "elevation_m": 362},
    {"code": "V085", "town": "T16", "name_zh": "钟根村", "name_en": "Zhonggen Village",
     "lat": 28.47410, "lon": 119.42830, "zone": "Z-EAST", "elevation_m": 559},
    # T17 柘岱口乡 — far south
    {"code": "V086", "town": "T17", "name_zh": "柘岱口村", "name_en": "Zhedaikou Village",
     "lat": 28.37610, "lon": 119.34070, "zone": "Z-SOUTH", "elevation_m": 383},
    {"code": "V087", "town": "T17", "name_zh": "塔岭村", "name_en": "Taling Village",
     "lat": 28.38720, "lon": 119.35620, "zone": "Z-SOUTH", "elevation_m": 612},
    {"code": "V088", "town": "T17", "name_zh": "高碧村", "name_en": "Gaobi Village",
     "lat": 28.36330, "lon": 119.32680, "zone": "Z-SOUTH", "elevation_m": 538},
    {"code": "V089", "town": "T17", "name_zh": "上坑村", "name_en": "Shangkeng Village",
     "lat": 28.36840, "lon": 119.35930, "zone": "Z-SOUTH", "elevation_m": 694},
    # T18 西畈乡
    {"code": "V090", "town": "T18", "name_zh": "西畈村", "name_en": "Xifan Village",
     "lat": 28.43870, "lon": 119.19510, "zone": "Z-SOUTH", "elevation_m": 331},
    {"code": "V091", "town": "T18", "name_zh": "大桥村", "name_en": "Daqiao Village",
     "lat": 28.44940, "lon": 119.20870, "zone": "Z-SOUTH", "elevation_m": 318},
    {"code": "V092", "town": "T18", "name_zh": "洋浩村", "name_en": "Yanghao Village",
     "lat": 28.42760, "lon": 119.18130, "zone": "Z-SOUTH", "elevation_m": 482},
    {"code": "V093", "town": "T18", "name_zh": "茶坑村", "name_en": "Chakeng Village",
     "lat": 28.43250, "lon": 119.21740, "zone": "Z-SOUTH", "elevation_m": 557},
    # T19 垵口乡
    {"code": "V094", "town": "T19", "name_zh": "垵口村", "name_en": "Ankou Village",
     "lat": 28.44230, "lon": 119.06100, "zone": "Z-WEST", "elevation_m": 362},
    {"code": "V095", "town": "T19", "name_zh": "黄岙村", "name_en": "Huang'ao Village",
     "lat": 28.45360, "lon": 119.04830, "zone": "Z-WEST", "elevation_m": 533},
    {"code": "V096", "town": "T19", "name_zh": "雅宅村", "name_en": "Yazhai Village",
     "lat": 28.43080, "lon": 119.07620, "zone": "Z-WEST", "elevation_m": 487},
    {"code": "V097", "town": "T19", "name_zh": "岩坪村", "name_en": "Yanping Village",
     "lat": 28.45510, "lon": 119.07380, "zone": "Z-WEST", "elevation_m": 642},
    # T20 三仁畲族乡 — She ethnic villages, east
    {"code": "V098", "town": "T20", "name_zh": "三仁村", "name_en": "Sanren Village",
     "lat": 28.60170, "lon": 119.42320, "zone": "Z-EAST", "elevation_m": 281},
    {"code": "V099", "town": "T20", "name_zh": "蕉坑村", "name_en": "Jiaokeng Village",
     "lat": 28.61360, "lon": 119.43610, "zone": "Z-EAST", "elevation_m": 452},
    {"code": "V100", "town": "T20", "name_zh": "上畲村", "name_en": "Shangshe Village",
     "lat": 28.59040, "lon": 119.43870, "zone": "Z-EAST", "elevation_m": 517},
    {"code": "V101", "town": "T20", "name_zh": "东桥村", "name_en": "Dongqiao Village",
     "lat": 28.60820, "lon": 119.40890, "zone": "Z-EAST", "elevation_m": 298},
    {"code": "V102", "town": "T20", "name_zh": "竹溪村", "name_en": "Zhuxi Village",
     "lat": 28.62040, "lon": 119.41840, "zone": "Z-EAST", "elevation_m": 393},
]

# ---------------------------------------------------------------------------------------------
# Middle warehouses (中仓). Vehicles start and end their shifts here.
# ---------------------------------------------------------------------------------------------
WAREHOUSES = [
    {
        "code": "W-MG",
        "name_zh": "妙高中心仓",
        "name_en": "Miaogao Central Depot",
        "village": "V001",
        "lat": 28.58790,
        "lon": 119.26880,
        "zones": ["Z-CENTRE", "Z-EAST", "Z-SOUTH", "Z-NORTH"],
        "address_zh": "遂昌县妙高街道上江工业园区园区路 18 号",
    },
    {
        "code": "W-BJ",
        "name_zh": "北界东北仓",
        "name_en": "Beijie North-East Depot",
        "village": "V013",
        "lat": 28.65310,
        "lon": 119.38840,
        "zones": ["Z-NORTHEAST", "Z-NORTH", "Z-EAST"],
        "address_zh": "遂昌县北界镇北界村工业功能区 6 号",
    },
    {
        "code": "W-WCK",
        "name_zh": "王村口西南仓",
        "name_en": "Wangcunkou South-West Depot",
        "village": "V039",
        "lat": 28.37120,
        "lon": 119.08410,
        "zones": ["Z-WEST", "Z-SOUTH"],
        "address_zh": "遂昌县王村口镇桥西村溪滩路 9 号",
    },
]

# ---------------------------------------------------------------------------------------------
# Farmers' specialised cooperatives (农民专业合作社).
# ---------------------------------------------------------------------------------------------
COOPERATIVES = [
    {
        "code": "C01",
        "name_zh": "遂昌县金竹竹炭专业合作社",
        "name_en": "Jinzhu Bamboo Charcoal Cooperative",
        "licence_no": "93331123MA28E4G71C",
        "village": "V019",
        "head_name": "叶建国",
        "head_mobile": "13757801236",
        "specialty": "bamboo_charcoal",
        "founded": "2012-05-18",
        "description_zh": (
            "以金竹镇五年生以上高山毛竹为原料，采用机械窑高温炭化，"
            "主营竹炭包、竹炭枕、除味炭等家居竹炭制品，带动全镇 86 户竹农增收。"
        ),
        "description_en": (
            "Kilns high-fired charcoal from mountain moso bamboo at least five years old and "
            "makes sachets, pillows and deodorising packs; 86 bamboo-growing households in "
            "Jinzhu are members."
        ),
        "status": "approved",
        "quality_score": 94,
    },
    {
        "code": "C02",
        "name_zh": "遂昌县濂竹竹醋竹炭专业合作社",
        "name_en": "Lianzhu Bamboo Vinegar & Charcoal Cooperative",
        "licence_no": "93331123MA28F0JB2R",
        "village": "V078",
        "head_name": "周志明",
        "head_mobile": "13857862418",
        "specialty": "bamboo_charcoal",
        "founded": "2014-09-02",
        "description_zh": (
            "在濂竹乡建有竹炭窑和竹醋液精制车间，回收烧炭烟气冷凝制取竹醋液，"
            "并加工竹炭皂、竹炭牙刷、竹醋足贴等日用品。"
        ),
        "description_en": (
            "Runs charcoal kilns and a refining workshop in Lianzhu that condenses kiln smoke "
            "into bamboo vinegar, and turns it into soap, toothbrushes and foot patches."
        ),
        "status": "approved",
        "quality_score": 91,
    },
    {
        "code": "C03",
        "name_zh": "遂昌县石练淤溪番薯专业合作社",
        "name_en": "Shilian Yuxi Sweet Potato Cooperative",
        "licence_no": "93331123MA28G5L3XC",
        "village": "V033",
        "head_name": "吴美娟",
        "head_mobile": "15967353107",
        "specialty": "dried_goods",
        "founded": "2013-11-06",
        "description_zh": (
            "种植红心、黄心番薯 420 亩，沿用柴火蒸、竹匾晒的老工艺制作番薯干，"
            "每年立冬后开蒸，不添加糖和色素。"
        ),
        "description_en": (
            "Grows 420 mu of red- and yellow-fleshed sweet potato and makes dried sweet potato "
            "the old way, steamed over wood and sun-dried on bamboo trays from early winter, "
            "with no added sugar or colouring."
        ),
        "status": "approved",
        "quality_score": 89,
    },
    {
        "code": "C04",
        "name_zh": "遂昌县王村口高山笋干专业合作社",
        "name_en": "Wangcunkou Mountain Bamboo Shoot Cooperative",
        "licence_no": "93331123MA28H76R13",
        "village": "V040",
        "head_name": "毛海平",
        "head_mobile": "13588695432",
        "specialty": "dried_goods",
        "founded": "2011-03-22",
        "description_zh": (
            "收购王村口、垵口一带海拔 500 米以上山林的野生石笋和毛笋，"
            "当天剥壳、煮制、烘晒，主营石笋干、笋干丝和烟笋。"
        ),
        "description_en": (
            "Buys wild stone-bamboo and moso shoots from forests above 500 m around Wangcunkou "
            "and Ankou, peeling, boiling and drying them the same day; known for dried stone "
            "shoots, shredded shoots and smoked shoots."
        ),
        "status": "approved",
        "quality_score": 92,
    },
    {
        "code": "C05",
        "name_zh": "遂昌县黄沙腰山珍菌菇专业合作社",
        "name_en": "Huangshayao Mountain Mushroom Cooperative",
        "licence_no": "93331123MA2A0C8N4A",
        "village": "V045",
        "head_name": "徐根土",
        "head_mobile": "18057846275",
        "specialty": "dried_goods",
        "founded": "2016-04-12",
        "description_zh": (
            "在黄沙腰西部林区用段木和袋料栽培香菇、黑木耳，低温烘干锁住菇香，"
            "花菇选自冬季昼夜温差大的山场。"
        ),
        "description_en": (
            "Cultivates shiitake and black fungus on logs and substrate in the western forests of "
            "Huangshayao and dries them at low temperature; flower shiitake come from winter "
            "slopes with wide day-night temperature swings."
        ),
        "status": "approved",
        "quality_score": 87,
    },
    {
        "code": "C06",
        "name_zh": "遂昌县焦滩独山农家菜干专业合作社",
        "name_en": "Jiaotan Dushan Dried Vegetable Cooperative",
        "licence_no": "93331123MA2A1K9D54",
        "village": "V064",
        "head_name": "郑丽萍",
        "head_mobile": "15157867309",
        "specialty": "dried_goods",
        "founded": "2017-08-15",
        "description_zh": (
            "由独山古村的留守妇女组建，按家传做法晒制梅干菜、干豇豆、萝卜干和玉米干，"
            "产品进入县城农贸市场和宁波、上海的社区团购。"
        ),
        "description_en": (
            "Founded by women of the old village of Dushan, it sun-dries preserved mustard "
            "greens, long beans, radish and sweetcorn to family recipes, selling in the county "
            "market and to community group-buying in Ningbo and Shanghai."
        ),
        "status": "approved",
        "quality_score": 90,
    },
    {
        "code": "C07",
        "name_zh": "遂昌县高坪茶树坪银猴茶专业合作社",
        "name_en": "Gaoping Chashuping Yinhou Tea Cooperative",
        "licence_no": "93331123MA28A2B674",
        "village": "V074",
        "head_name": "朱樟生",
        "head_mobile": "13905786142",
        "specialty": "tea",
        "founded": "2009-03-10",
        "description_zh": (
            "茶园位于海拔 850 米以上的高坪山地，云雾多、昼夜温差大，"
            "以传统工艺炒制遂昌银猴，条索卷曲多毫、形似猴爪。"
        ),
        "description_en": (
            "Tea gardens above 850 m on the misty Gaoping plateau; the cooperative pan-fires "
            "Suichang Yinhou green tea by hand, curled, downy leaves shaped like a monkey's paw."
        ),
        "status": "approved",
        "quality_score": 97,
    },
    {
        "code": "C08",
        "name_zh": "遂昌县大柘龙谷茶叶专业合作社",
        "name_en": "Dazhe Longgu Tea Cooperative",
        "licence_no": "93331123MA2A3F4E8L",
        "village": "V030",
        "head_name": "张晓燕",
        "head_mobile": "17757825618",
        "specialty": "tea",
        "founded": "2015-02-26",
        "description_zh": (
            "经营有机认证茶园 310 亩，生产扁形名茶龙谷丽人及白茶、黄金芽，"
            "茶园间种桂花树，不施化学农药。"
        ),
        "description_en": (
            "Manages 310 mu of certified organic gardens producing the flat-leaf Longgu Liren tea, "
            "white tea and golden-bud tea; osmanthus trees grow between the rows and no synthetic "
            "pesticides are used."
        ),
        "status": "approved",
        "quality_score": 95,
    },
    {
        "code": "C09",
        "name_zh": "遂昌县三仁畲乡花草茶专业合作社",
        "name_en": "Sanren She Village Flower Tea Cooperative",
        "licence_no": "93331123MA2A5P7G2E",
        "village": "V100",
        "head_name": "蓝秀英",
        "head_mobile": "13967842093",
        "specialty": "tea",
        "founded": "2018-06-08",
        "description_zh": (
            "畲族村民在山坡梯地种植菊花、金银花、玫瑰和桂花，"
            "其中遂昌菊米采摘未开放的菊花花蕾杀青烘干，是县里的老牌特产。"
        ),
        "description_en": (
            "She villagers grow chrysanthemum, honeysuckle, rose and osmanthus on terraced "
            "slopes; their Suichang chrysanthemum rice, unopened buds fixed and dried, is a "
            "long-standing county specialty."
        ),
        "status": "approved",
        "quality_score": 88,
    },
    {
        "code": "C10",
        "name_zh": "遂昌县龙洋土蜂蜜专业合作社",
        "name_en": "Longyang Native Honey Cooperative",
        "licence_no": "93331123MA2A6T1H9G",
        "village": "V082",
        "head_name": "钟海荣",
        "head_mobile": "15825712684",
        "specialty": "other",
        "founded": "2016-10-19",
        "description_zh": (
            "社员在龙洋、大柘山区饲养中华蜜蜂 1300 余箱，一年只取一到两次成熟蜜；"
            "同时收购本地杨梅、猕猴桃、柿子加工果脯。"
        ),
        "description_en": (
            "Members keep over 1,300 hives of Chinese honeybees in the Longyang and Dazhe hills "
            "and harvest ripe honey only once or twice a year; they also make dried fruit from "
            "local bayberries, kiwifruit and persimmons."
        ),
        "status": "approved",
        "quality_score": 93,
    },
    {
        "code": "C11",
        "name_zh": "遂昌县柘岱口油茶梯田米专业合作社",
        "name_en": "Zhedaikou Camellia Oil & Terrace Rice Cooperative",
        "licence_no": "93331123MA2E0W3K6Y",
        "village": "V086",
        "head_name": "罗长春",
        "head_mobile": "18757836921",
        "specialty": "other",
        "founded": "2019-01-07",
        "description_zh": (
            "管护油茶林 1800 亩、高山梯田 260 亩，油茶籽霜降后采摘、物理压榨，"
            "梯田米用山泉水灌溉，一年一季。"
        ),
        "description_en": (
            "Tends 1,800 mu of oil-tea camellia and 260 mu of mountain terraces; seeds are picked "
            "after the first frost and pressed mechanically, and the terrace rice is spring-fed "
            "and grown one crop a year."
        ),
        "status": "approved",
        "quality_score": 90,
    },
    {
        "code": "C12",
        "name_zh": "遂昌县应村乡农家手作专业合作社",
        "name_en": "Yingcun Farmhouse Handmade Foods Cooperative",
        "licence_no": "93331123MA2K4X8R02",
        "village": "V068",
        "head_name": "黄丽芳",
        "head_mobile": "19857801547",
        "specialty": "other",
        "founded": "2023-04-20",
        "description_zh": (
            "新成立的村集体合作社，组织村里老师傅手工包遂昌长粽、打黄米粿和麻糍，"
            "并编织竹篮等竹编小件。"
        ),
        "description_en": (
            "A newly founded village cooperative whose older cooks hand-wrap Suichang long "
            "zongzi and pound yellow rice cakes and glutinous ciba, and weave small bamboo "
            "baskets."
        ),
        "status": "pending",
        "quality_score": 80,
    },
]

# ---------------------------------------------------------------------------------------------
# Storefront categories.
# ---------------------------------------------------------------------------------------------
CATEGORIES = [
    {"slug": "bamboo-charcoal", "name_zh": "竹炭制品", "name_en": "Bamboo charcoal goods",
     "icon": "🎋", "sort": 10},
    {"slug": "dried-goods", "name_zh": "山乡干货", "name_en": "Dried goods",
     "icon": "🍄", "sort": 20},
    {"slug": "tea", "name_zh": "茶叶花茶", "name_en": "Green & flower teas",
     "icon": "🍵", "sort": 30},
    {"slug": "honey-and-preserves", "name_zh": "蜂蜜果脯", "name_en": "Honey & preserves",
     "icon": "🍯", "sort": 40},
    {"slug": "grains-and-oils", "name_zh": "粮油米面", "name_en": "Grains & oils",
     "icon": "🌾", "sort": 50},
    {"slug": "other-local", "name_zh": "其他土特产", "name_en": "Other local goods",
     "icon": "🧺", "sort": 60},
]

# ---------------------------------------------------------------------------------------------
# Products. SKU prefixes: BC bamboo charcoal, DG dried goods, TE tea, HP honey & preserves,
# GO grains & oils, OL other local goods.
# ---------------------------------------------------------------------------------------------
PRODUCTS = [
    # --- C01 金竹竹炭 ------------------------------------------------------------------------
    {
        "sku": "SC-BC-001", "coop": "C01", "category": "bamboo-charcoal",
        "name_zh": "竹炭包", "name_en": "Bamboo charcoal sachet",
        "description_zh": (
            "高温竹炭颗粒装入透气棉麻袋，放在新装修房间、衣柜、鞋柜吸附异味和潮气。"
            "每月拿到太阳下晒 2 小时可反复使用。"
        ),
        "description_en": (
            "High-fired bamboo charcoal granules in a breathable cotton-linen bag to absorb "
            "odours and damp in newly decorated rooms, wardrobes and shoe cabinets. Sun it for "
            "two hours a month and reuse."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 3800,
        "weight_g": 560, "volume_cm3": 2600, "shelf_life_days": None,
        "certification_type": "geo_indication", "certification_no": "GI-2009-126",
        "handling": ["keep_dry"], "featured": True, "origin_village": "V019",
    },
    {
        "sku": "SC-BC-002", "coop": "C01", "category": "bamboo-charcoal",
        "name_zh": "竹炭枕", "name_en": "Bamboo charcoal pillow",
        "description_zh": (
            "枕芯填充竹炭颗粒与荞麦壳，软硬适中、透气不闷热，适合颈椎不适、睡觉易出汗的人。"
        ),
        "description_en": (
            "Filled with bamboo charcoal granules and buckwheat hulls: medium-firm, breathable "
            "and cool, good for stiff necks and people who sweat at night."
        ),
        "unit_zh": "个(60×35厘米)", "unit_en": "piece (60 × 35 cm)", "price_fen": 16800,
        "weight_g": 1850, "volume_cm3": 25200, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": True, "origin_village": "V019",
    },
    {
        "sku": "SC-BC-003", "coop": "C01", "category": "bamboo-charcoal",
        "name_zh": "竹炭除味包(车用)", "name_en": "Bamboo charcoal car deodoriser",
        "description_zh": "十小包分装，可塞在座椅下、后备箱和空调出风口，新车异味明显减轻。",
        "description_en": (
            "Ten small packs to tuck under seats, in the boot and by the air vents; noticeably "
            "cuts new-car smell."
        ),
        "unit_zh": "盒(10包×100克)", "unit_en": "box (10 × 100 g)", "price_fen": 5900,
        "weight_g": 1150, "volume_cm3": 4500, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V019",
    },
    {
        "sku": "SC-BC-004", "coop": "C01", "category": "bamboo-charcoal",
        "name_zh": "竹炭除味包(冰箱用)", "name_en": "Bamboo charcoal fridge deodoriser",
        "description_zh": "食品级竹炭独立小袋，放在冰箱冷藏室去除鱼腥和剩菜味，约三个月更换一次。",
        "description_en": (
            "Food-grade bamboo charcoal in sealed pouches for the fridge, taking away fish and "
            "leftover smells; replace about every three months."
        ),
        "unit_zh": "盒(6包×50克)", "unit_en": "box (6 × 50 g)", "price_fen": 3200,
        "weight_g": 380, "volume_cm3": 1800, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V023",
    },
    {
        "sku": "SC-BC-005", "coop": "C01", "category": "bamboo-charcoal",
        "name_zh": "竹炭鞋垫", "name_en": "Bamboo charcoal insoles",
        "description_zh": "竹炭纤维面层吸汗防臭，可按鞋码自行裁剪，男女通用。",
        "description_en": (
            "A bamboo-charcoal fibre top layer that soaks up sweat and odour; trim to your shoe "
            "size, unisex."
        ),
        "unit_zh": "双", "unit_en": "pair", "price_fen": 2500,
        "weight_g": 120, "volume_cm3": 900, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": [], "featured": False, "origin_village": "V019",
    },
    {
        "sku": "SC-BC-006", "coop": "C01", "category": "bamboo-charcoal",
        "name_zh": "竹炭烧烤炭", "name_en": "Bamboo charcoal for grilling",
        "description_zh": "机制竹炭棒，无烟少灰、耐烧，一箱够一家人烧烤三到四次。",
        "description_en": (
            "Extruded bamboo charcoal briquettes that burn long with little smoke or ash; one "
            "box does a family barbecue three or four times."
        ),
        "unit_zh": "箱(3千克)", "unit_en": "box (3 kg)", "price_fen": 4500,
        "weight_g": 3200, "volume_cm3": 9000, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V021",
    },
    {
        "sku": "SC-BC-007", "coop": "C01", "category": "bamboo-charcoal",
        "name_zh": "竹炭雕摆件", "name_en": "Carved bamboo charcoal ornament",
        "description_zh": "整段竹炭手工雕刻成山水、貔貅等造型，既是摆件也能净化空气，附木质底座。",
        "description_en": (
            "A whole section of bamboo charcoal hand-carved into a landscape or guardian beast, "
            "both ornament and air purifier, on a wooden stand."
        ),
        "unit_zh": "件", "unit_en": "piece", "price_fen": 12800,
        "weight_g": 900, "volume_cm3": 6000, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": ["fragile", "keep_dry"], "featured": False, "origin_village": "V019",
    },
    # --- C02 濂竹竹醋竹炭 --------------------------------------------------------------------
    {
        "sku": "SC-BC-008", "coop": "C02", "category": "bamboo-charcoal",
        "name_zh": "竹醋液", "name_en": "Bamboo vinegar",
        "description_zh": (
            "烧炭烟气冷凝后静置半年精制而成，稀释后可用于泡脚、浇花和厨房清洁。"
            "玻璃瓶装，请勿直接饮用。"
        ),
        "description_en": (
            "Condensed from kiln smoke and settled for six months before refining. Dilute for "
            "foot soaks, watering plants or kitchen cleaning. Glass bottle; not for drinking."
        ),
        "unit_zh": "瓶(500毫升)", "unit_en": "bottle (500 ml)", "price_fen": 3600,
        "weight_g": 820, "volume_cm3": 1500, "shelf_life_days": 1095,
        "certification_type": "none", "certification_no": "",
        "handling": ["liquid", "fragile"], "featured": False, "origin_village": "V078",
    },
    {
        "sku": "SC-BC-009", "coop": "C02", "category": "bamboo-charcoal",
        "name_zh": "竹炭手工皂", "name_en": "Handmade bamboo charcoal soap",
        "description_zh": "冷制工艺，添加竹炭粉和山茶油，泡沫细腻，适合油性肌肤洗脸洗澡。",
        "description_en": (
            "Cold-process soap with bamboo charcoal powder and camellia oil; a fine lather that "
            "suits oily skin for face and body."
        ),
        "unit_zh": "块(100克)", "unit_en": "bar (100 g)", "price_fen": 1800,
        "weight_g": 130, "volume_cm3": 300, "shelf_life_days": 1095,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V078",
    },
    {
        "sku": "SC-BC-010", "coop": "C02", "category": "bamboo-charcoal",
        "name_zh": "竹炭牙刷", "name_en": "Bamboo charcoal toothbrushes",
        "description_zh": "竹柄加竹炭软毛，刷毛细软不伤牙龈，四支家庭装。",
        "description_en": (
            "Bamboo handles with soft charcoal-infused bristles that are kind to gums; family "
            "pack of four."
        ),
        "unit_zh": "盒(4支)", "unit_en": "box (4 brushes)", "price_fen": 2200,
        "weight_g": 110, "volume_cm3": 500, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": [], "featured": False, "origin_village": "V079",
    },
    {
        "sku": "SC-BC-011", "coop": "C02", "category": "bamboo-charcoal",
        "name_zh": "竹炭汽车坐垫", "name_en": "Bamboo charcoal seat cushion",
        "description_zh": "坐垫内衬竹炭包，夏天不闷汗，长途开车久坐更舒服，通用五座车型。",
        "description_en": (
            "A seat cushion lined with charcoal packs that stays dry in summer and eases long "
            "drives; fits most five-seat cars."
        ),
        "unit_zh": "个", "unit_en": "piece", "price_fen": 8800,
        "weight_g": 1400, "volume_cm3": 12000, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V078",
    },
    {
        "sku": "SC-BC-012", "coop": "C02", "category": "bamboo-charcoal",
        "name_zh": "竹炭纤维毛巾", "name_en": "Bamboo charcoal fibre towels",
        "description_zh": "竹炭纤维与棉混纺，吸水快、干得快，不易发霉发臭，两条装。",
        "description_en": (
            "Bamboo-charcoal fibre blended with cotton: absorbent, quick-drying and slow to "
            "turn musty. Pack of two."
        ),
        "unit_zh": "盒(2条)", "unit_en": "box (2 towels)", "price_fen": 3900,
        "weight_g": 260, "volume_cm3": 1600, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": [], "featured": False, "origin_village": "V078",
    },
    {
        "sku": "SC-BC-013", "coop": "C02", "category": "bamboo-charcoal",
        "name_zh": "竹醋足贴", "name_en": "Bamboo vinegar foot patches",
        "description_zh": "以竹醋液粉和竹炭粉制成，睡前贴于脚底，第二天揭下，三十贴一个月用量。",
        "description_en": (
            "Made with bamboo vinegar powder and charcoal powder: stick on the soles at bedtime "
            "and peel off in the morning. Thirty patches, a month's supply."
        ),
        "unit_zh": "盒(30贴)", "unit_en": "box (30 patches)", "price_fen": 3900,
        "weight_g": 240, "volume_cm3": 1200, "shelf_life_days": 730,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V080",
    },
    # --- C03 石练淤溪番薯 --------------------------------------------------------------------
    {
        "sku": "SC-DG-001", "coop": "C03", "category": "dried-goods",
        "name_zh": "红心番薯干", "name_en": "Red-fleshed dried sweet potato",
        "description_zh": (
            "选用红心番薯整只蒸熟后切条，竹匾上晒足七天，软糯有嚼劲，自带蜜甜，不加一粒糖。"
        ),
        "description_en": (
            "Red-fleshed sweet potatoes steamed whole, cut into strips and sun-dried on bamboo "
            "trays for a full week: soft, chewy and naturally honey-sweet, with no added sugar."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 3200,
        "weight_g": 540, "volume_cm3": 2200, "shelf_life_days": 270,
        "certification_type": "sc_licence", "certification_no": "SC11233112300427",
        "handling": ["keep_dry"], "featured": True, "origin_village": "V033",
    },
    {
        "sku": "SC-DG-002", "coop": "C03", "category": "dried-goods",
        "name_zh": "番薯干条(原味)", "name_en": "Dried sweet potato strips",
        "description_zh": "黄心番薯切条蒸晒，口感偏干香，办公室和孩子放学后的小零食。",
        "description_en": (
            "Yellow-fleshed sweet potato strips, steamed and sun-dried, drier and more fragrant; "
            "a snack for the office or after school."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 2600,
        "weight_g": 540, "volume_cm3": 2200, "shelf_life_days": 270,
        "certification_type": "sc_licence", "certification_no": "SC11233112300427",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V033",
    },
    {
        "sku": "SC-DG-003", "coop": "C03", "category": "dried-goods",
        "name_zh": "老式地瓜干(块)", "name_en": "Old-style dried sweet potato chunks",
        "description_zh": "按老辈做法切厚块晒制，外皮带一层糖霜，蒸一蒸或在炭火上烤一烤更香。",
        "description_en": (
            "Thick chunks dried the way grandparents did, with a natural sugar bloom on the "
            "outside; even better steamed or toasted over charcoal."
        ),
        "unit_zh": "袋(1千克)", "unit_en": "bag (1 kg)", "price_fen": 4500,
        "weight_g": 1060, "volume_cm3": 4200, "shelf_life_days": 240,
        "certification_type": "sc_licence", "certification_no": "SC11233112300427",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V032",
    },
    {
        "sku": "SC-DG-004", "coop": "C03", "category": "dried-goods",
        "name_zh": "手工番薯粉丝", "name_en": "Handmade sweet potato vermicelli",
        "description_zh": "番薯淀粉手工漏丝、冬日冷冻晾晒，久煮不烂，适合炖汤、做酸辣粉。",
        "description_en": (
            "Sweet potato starch pressed into noodles by hand and freeze-dried outdoors in "
            "winter; holds up to long simmering, good in soups and hot-and-sour noodles."
        ),
        "unit_zh": "袋(1千克)", "unit_en": "bag (1 kg)", "price_fen": 3600,
        "weight_g": 1050, "volume_cm3": 5500, "shelf_life_days": 540,
        "certification_type": "sc_licence", "certification_no": "SC12333112300218",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V034",
    },
    {
        "sku": "SC-DG-005", "coop": "C03", "category": "dried-goods",
        "name_zh": "番薯干礼盒", "name_en": "Dried sweet potato gift box",
        "description_zh": "红心、黄心、紫薯、老式块四种口味各一袋，春节走亲访友的实在礼物。",
        "description_en": (
            "One bag each of red-fleshed, yellow-fleshed, purple and old-style chunks; a "
            "down-to-earth Spring Festival gift."
        ),
        "unit_zh": "盒(4×250克)", "unit_en": "box (4 × 250 g)", "price_fen": 8800,
        "weight_g": 1350, "volume_cm3": 6500, "shelf_life_days": 240,
        "certification_type": "sc_licence", "certification_no": "SC11233112300427",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V033",
    },
    # --- C04 王村口笋干 ----------------------------------------------------------------------
    {
        "sku": "SC-DG-006", "coop": "C04", "category": "dried-goods",
        "name_zh": "高山石笋干", "name_en": "Dried mountain stone-bamboo shoots",
        "description_zh": (
            "清明前后上山采挖野生石笋，煮熟后炭火慢烘，笋香浓郁，泡发后炖老鸭、烧肉都好。"
        ),
        "description_en": (
            "Wild stone-bamboo shoots dug around Qingming, boiled and slowly dried over charcoal; "
            "richly fragrant, great soaked and braised with old duck or pork."
        ),
        "unit_zh": "袋(250克)", "unit_en": "bag (250 g)", "price_fen": 4800,
        "weight_g": 280, "volume_cm3": 2000, "shelf_life_days": 365,
        "certification_type": "green_food", "certification_no": "LB-17-22031104521A",
        "handling": ["keep_dry"], "featured": True, "origin_village": "V040",
    },
    {
        "sku": "SC-DG-007", "coop": "C04", "category": "dried-goods",
        "name_zh": "笋干丝", "name_en": "Shredded dried bamboo shoots",
        "description_zh": "嫩笋切丝晒干，泡发快，炒肉丝、做梅菜扣肉垫底都合适。",
        "description_en": (
            "Tender shoots cut into shreds and sun-dried; quick to soak, good stir-fried with "
            "pork or under braised pork belly."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 4200,
        "weight_g": 540, "volume_cm3": 3000, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC11633112300335",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V040",
    },
    {
        "sku": "SC-DG-008", "coop": "C04", "category": "dried-goods",
        "name_zh": "毛笋干片", "name_en": "Dried moso bamboo shoot slices",
        "description_zh": "冬笋过后的春毛笋切片晒干，肉厚脆嫩，适合和咸肉一起炖笋干煲。",
        "description_en": (
            "Spring moso shoots sliced and sun-dried; thick, crisp and tender, ideal stewed "
            "with cured pork."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 3800,
        "weight_g": 540, "volume_cm3": 3200, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC11633112300335",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V041",
    },
    {
        "sku": "SC-DG-009", "coop": "C04", "category": "dried-goods",
        "name_zh": "烟熏笋干", "name_en": "Smoke-dried bamboo shoots",
        "description_zh": "在老灶头上方用松枝烟熏半月，带浓浓的柴火烟香，是王村口人过年必备的菜。",
        "description_en": (
            "Hung over an old wood stove and smoked with pine for half a month; deeply smoky, "
            "a must on Wangcunkou New Year tables."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 5500,
        "weight_g": 540, "volume_cm3": 3000, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC11633112300335",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V042",
    },
    {
        "sku": "SC-DG-010", "coop": "C04", "category": "dried-goods",
        "name_zh": "笋干礼盒", "name_en": "Dried bamboo shoot gift box",
        "description_zh": "石笋干、笋干丝、烟熏笋干三种组合，竹编盒包装，适合送长辈。",
        "description_en": (
            "Dried stone shoots, shredded shoots and smoked shoots in a woven bamboo box; a "
            "gift for elders."
        ),
        "unit_zh": "盒(3×250克)", "unit_en": "box (3 × 250 g)", "price_fen": 12800,
        "weight_g": 1200, "volume_cm3": 8000, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC11633112300335",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V040",
    },
    {
        "sku": "SC-DG-011", "coop": "C04", "category": "dried-goods",
        "name_zh": "野生蕨菜干", "name_en": "Dried wild bracken",
        "description_zh": "春季山坡采摘的嫩蕨菜焯水晒干，泡发后凉拌或炒腊肉，有山野清香。",
        "description_en": (
            "Young bracken fronds picked on spring hillsides, blanched and dried; soak and serve "
            "cold or stir-fry with cured pork for a taste of the mountains."
        ),
        "unit_zh": "袋(250克)", "unit_en": "bag (250 g)", "price_fen": 4600,
        "weight_g": 280, "volume_cm3": 2200, "shelf_life_days": 365,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V043",
    },
    # --- C05 黄沙腰山珍菌菇 ------------------------------------------------------------------
    {
        "sku": "SC-DG-012", "coop": "C05", "category": "dried-goods",
        "name_zh": "高山花菇", "name_en": "Mountain flower shiitake",
        "description_zh": "冬季低温慢长的花菇，菌盖厚实、白色裂纹明显，炖汤煲鸡香气十足。",
        "description_en": (
            "Flower shiitake grown slowly in the winter cold, with thick caps and clear white "
            "cracks; wonderfully fragrant in soups and chicken stews."
        ),
        "unit_zh": "袋(250克)", "unit_en": "bag (250 g)", "price_fen": 5800,
        "weight_g": 290, "volume_cm3": 3500, "shelf_life_days": 365,
        "certification_type": "green_food", "certification_no": "LB-16-21091103876A",
        "handling": ["keep_dry"], "featured": True, "origin_village": "V045",
    },
    {
        "sku": "SC-DG-013", "coop": "C05", "category": "dried-goods",
        "name_zh": "段木香菇", "name_en": "Log-grown dried shiitake",
        "description_zh": "在砍伐下来的阔叶树段木上自然出菇，生长期长，菇味比袋料香菇更浓。",
        "description_en": (
            "Fruited naturally on hardwood logs over a long season, with a stronger flavour than "
            "bag-grown shiitake."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 6800,
        "weight_g": 560, "volume_cm3": 6000, "shelf_life_days": 365,
        "certification_type": "green_food", "certification_no": "LB-16-21091103876A",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V046",
    },
    {
        "sku": "SC-DG-014", "coop": "C05", "category": "dried-goods",
        "name_zh": "黑木耳", "name_en": "Dried black fungus",
        "description_zh": "秋耳肉厚、背面灰白，泡发率高，一小把能泡出一大碗，凉拌清炒都爽脆。",
        "description_en": (
            "Thick autumn-harvest black fungus with pale undersides that swells generously: a "
            "small handful fills a bowl, crisp in salads and stir-fries."
        ),
        "unit_zh": "袋(250克)", "unit_en": "bag (250 g)", "price_fen": 3900,
        "weight_g": 280, "volume_cm3": 3000, "shelf_life_days": 540,
        "certification_type": "sc_licence", "certification_no": "SC11633112300561",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V044",
    },
    {
        "sku": "SC-DG-015", "coop": "C05", "category": "dried-goods",
        "name_zh": "茶树菇干", "name_en": "Dried tea-tree mushrooms",
        "description_zh": "菌柄脆嫩、菌盖小巧，与排骨或老鸭同炖，汤色清亮味道鲜。",
        "description_en": (
            "Crisp stems and small caps; simmer with pork ribs or old duck for a clear, savoury "
            "broth."
        ),
        "unit_zh": "袋(250克)", "unit_en": "bag (250 g)", "price_fen": 3500,
        "weight_g": 280, "volume_cm3": 3200, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC11633112300561",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V047",
    },
    {
        "sku": "SC-DG-016", "coop": "C05", "category": "dried-goods",
        "name_zh": "山珍菌菇礼盒", "name_en": "Mountain mushroom gift box",
        "description_zh": "花菇、段木香菇、黑木耳、茶树菇四样组合，木盒包装，逢年过节送礼体面。",
        "description_en": (
            "Flower shiitake, log-grown shiitake, black fungus and tea-tree mushrooms in a wooden "
            "box; a handsome holiday gift."
        ),
        "unit_zh": "盒(4样共600克)", "unit_en": "box (4 kinds, 600 g)", "price_fen": 15800,
        "weight_g": 1500, "volume_cm3": 12000, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC11633112300561",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V045",
    },
    # --- C06 焦滩独山菜干 --------------------------------------------------------------------
    {
        "sku": "SC-DG-017", "coop": "C06", "category": "dried-goods",
        "name_zh": "梅干菜", "name_en": "Dried preserved mustard greens",
        "description_zh": "自家种的芥菜腌制后反复蒸晒，乌黑油亮、咸香回甘，蒸五花肉、做干菜饼都好。",
        "description_en": (
            "Home-grown mustard greens salted, then steamed and sun-dried again and again until "
            "glossy black; savoury-sweet, for steamed pork belly or dried-vegetable pancakes."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 3000,
        "weight_g": 540, "volume_cm3": 2500, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC11633112300689",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V064",
    },
    {
        "sku": "SC-DG-018", "coop": "C06", "category": "dried-goods",
        "name_zh": "干豇豆", "name_en": "Dried long beans",
        "description_zh": "夏末豇豆焯水后挂在竹竿上晒干，泡发后烧肉，吸满汤汁格外下饭。",
        "description_en": (
            "Late-summer long beans blanched and hung on bamboo poles to dry; braised with pork "
            "they soak up the sauce and go perfectly with rice."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 3200,
        "weight_g": 540, "volume_cm3": 3500, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC11633112300689",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V064",
    },
    {
        "sku": "SC-DG-019", "coop": "C06", "category": "dried-goods",
        "name_zh": "萝卜干", "name_en": "Dried radish",
        "description_zh": "白萝卜切条晒至半干再用盐揉制，脆口咸香，早餐配白粥最合适。",
        "description_en": (
            "White radish cut into strips, half-dried and rubbed with salt; crunchy and savoury, "
            "best with plain congee for breakfast."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 2000,
        "weight_g": 540, "volume_cm3": 2200, "shelf_life_days": 180,
        "certification_type": "sc_licence", "certification_no": "SC11633112300689",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V063",
    },
    {
        "sku": "SC-DG-020", "coop": "C06", "category": "dried-goods",
        "name_zh": "高山玉米干", "name_en": "Dried mountain sweetcorn",
        "description_zh": "山地糯玉米煮熟后剥粒晒干，煮粥、炖排骨时抓一把，口感软糯带甜。",
        "description_en": (
            "Waxy mountain corn boiled, stripped and sun-dried; a handful in congee or rib soup "
            "turns soft, chewy and sweet."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 2200,
        "weight_g": 540, "volume_cm3": 1800, "shelf_life_days": 365,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V067",
    },
    {
        "sku": "SC-DG-021", "coop": "C06", "category": "dried-goods",
        "name_zh": "农家菜干组合", "name_en": "Farmhouse dried vegetable set",
        "description_zh": "梅干菜、干豇豆、萝卜干、玉米干各一袋，一次尝遍独山村的农家味道。",
        "description_en": (
            "A bag each of preserved mustard greens, long beans, radish and sweetcorn: the "
            "farmhouse flavours of Dushan in one parcel."
        ),
        "unit_zh": "组(4×250克)", "unit_en": "set (4 × 250 g)", "price_fen": 5800,
        "weight_g": 1150, "volume_cm3": 5500, "shelf_life_days": 180,
        "certification_type": "sc_licence", "certification_no": "SC11633112300689",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V064",
    },
    # --- C07 高坪银猴茶 ----------------------------------------------------------------------
    {
        "sku": "SC-TE-001", "coop": "C07", "category": "tea",
        "name_zh": "遂昌银猴(特级)", "name_en": "Suichang Yinhou green tea, special grade",
        "description_zh": (
            "明前一芽一叶初展手工炒制，条索卷曲、银毫显露，汤色嫩绿明亮，栗香持久。"
        ),
        "description_en": (
            "Hand-fired before Qingming from one bud and one unfurling leaf: curled, silver-downed "
            "leaves, a bright jade liquor and a lasting chestnut aroma."
        ),
        "unit_zh": "罐(125克)", "unit_en": "tin (125 g)", "price_fen": 26800,
        "weight_g": 260, "volume_cm3": 1400, "shelf_life_days": 540,
        "certification_type": "green_food", "certification_no": "LB-15-21081102354A",
        "handling": ["keep_dry", "odor_sensitive"], "featured": True, "origin_village": "V074",
    },
    {
        "sku": "SC-TE-002", "coop": "C07", "category": "tea",
        "name_zh": "遂昌银猴(一级)", "name_en": "Suichang Yinhou green tea, first grade",
        "description_zh": "清明后至谷雨前采制，滋味更醇厚耐泡，适合日常口粮茶。",
        "description_en": (
            "Picked between Qingming and Guyu; fuller-bodied and good for many infusions, an "
            "everyday tea."
        ),
        "unit_zh": "袋(250克)", "unit_en": "bag (250 g)", "price_fen": 19800,
        "weight_g": 300, "volume_cm3": 2000, "shelf_life_days": 540,
        "certification_type": "green_food", "certification_no": "LB-15-21081102354A",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V073",
    },
    {
        "sku": "SC-TE-003", "coop": "C07", "category": "tea",
        "name_zh": "高山炒青绿茶", "name_en": "Mountain pan-fired green tea",
        "description_zh": "夏秋茶机制炒青，茶味浓、价格实惠，泡大杯茶、做茶叶蛋都合适。",
        "description_en": (
            "Machine pan-fired summer and autumn leaf; strong and good value, for big mugs of "
            "tea or tea eggs."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 8800,
        "weight_g": 560, "volume_cm3": 4000, "shelf_life_days": 540,
        "certification_type": "sc_licence", "certification_no": "SC11433112300123",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V077",
    },
    {
        "sku": "SC-TE-004", "coop": "C07", "category": "tea",
        "name_zh": "明前银猴礼盒", "name_en": "Pre-Qingming Yinhou gift box",
        "description_zh": "两罐特级明前银猴配竹制茶则，礼盒印有茶树坪茶园实景，送礼自饮皆宜。",
        "description_en": (
            "Two tins of special-grade pre-Qingming Yinhou with a bamboo tea scoop, in a box "
            "printed with the Chashuping gardens; for gifts or yourself."
        ),
        "unit_zh": "盒(2×125克)", "unit_en": "box (2 × 125 g)", "price_fen": 56800,
        "weight_g": 900, "volume_cm3": 5200, "shelf_life_days": 540,
        "certification_type": "green_food", "certification_no": "LB-15-21081102354A",
        "handling": ["keep_dry", "odor_sensitive", "fragile"], "featured": False,
        "origin_village": "V074",
    },
    {
        "sku": "SC-TE-005", "coop": "C07", "category": "tea",
        "name_zh": "高山红茶", "name_en": "Mountain black tea",
        "description_zh": "高坪夏茶经萎凋、揉捻、发酵制成，带蜜香和薯香，冬天喝暖胃。",
        "description_en": (
            "Gaoping summer leaf withered, rolled and oxidised; honey and sweet-potato notes, "
            "warming in winter."
        ),
        "unit_zh": "罐(150克)", "unit_en": "tin (150 g)", "price_fen": 15800,
        "weight_g": 290, "volume_cm3": 1600, "shelf_life_days": 720,
        "certification_type": "sc_licence", "certification_no": "SC11433112300123",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V075",
    },
    # --- C08 大柘龙谷茶叶 --------------------------------------------------------------------
    {
        "sku": "SC-TE-006", "coop": "C08", "category": "tea",
        "name_zh": "龙谷丽人", "name_en": "Longgu Liren flat green tea",
        "description_zh": "遂昌本土扁形名茶，外形扁平挺直、色泽嫩绿，入口鲜爽带兰花香。",
        "description_en": (
            "Suichang's own flat-leaf tea: straight, flat, tender green leaves that brew fresh "
            "and brisk with an orchid note."
        ),
        "unit_zh": "罐(100克)", "unit_en": "tin (100 g)", "price_fen": 29800,
        "weight_g": 230, "volume_cm3": 1300, "shelf_life_days": 540,
        "certification_type": "organic", "certification_no": "124OP2200356",
        "handling": ["keep_dry", "odor_sensitive"], "featured": True, "origin_village": "V030",
    },
    {
        "sku": "SC-TE-007", "coop": "C08", "category": "tea",
        "name_zh": "高山白茶", "name_en": "Mountain albino green tea",
        "description_zh": "白叶一号品种，春季新芽呈玉白色，氨基酸含量高，滋味鲜甜不苦涩。",
        "description_en": (
            "The Baiye No. 1 albino cultivar, whose spring buds come out ivory-white; high in "
            "amino acids, sweet and savoury without bitterness."
        ),
        "unit_zh": "罐(125克)", "unit_en": "tin (125 g)", "price_fen": 23800,
        "weight_g": 260, "volume_cm3": 1400, "shelf_life_days": 540,
        "certification_type": "organic", "certification_no": "124OP2200356",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V030",
    },
    {
        "sku": "SC-TE-008", "coop": "C08", "category": "tea",
        "name_zh": "黄金芽", "name_en": "Golden bud tea",
        "description_zh": "黄化品种茶，干茶金黄、汤色鹅黄，口感清甜，泡起来颜值很高。",
        "description_en": (
            "A yellow-leaf cultivar with golden dry leaf and a pale-yellow, clean, sweet liquor; "
            "beautiful in a glass."
        ),
        "unit_zh": "罐(100克)", "unit_en": "tin (100 g)", "price_fen": 19800,
        "weight_g": 230, "volume_cm3": 1300, "shelf_life_days": 540,
        "certification_type": "organic", "certification_no": "124OP2200356",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V027",
    },
    {
        "sku": "SC-TE-009", "coop": "C08", "category": "tea",
        "name_zh": "桂花绿茶袋泡茶", "name_en": "Osmanthus green tea bags",
        "description_zh": "有机绿茶拼配茶园里的金桂花，独立三角茶包，上班出差冲泡方便。",
        "description_en": (
            "Organic green tea blended with golden osmanthus from the same gardens, in "
            "individual pyramid bags for work and travel."
        ),
        "unit_zh": "盒(20袋)", "unit_en": "box (20 bags)", "price_fen": 4500,
        "weight_g": 160, "volume_cm3": 1500, "shelf_life_days": 540,
        "certification_type": "sc_licence", "certification_no": "SC11433112300251",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V030",
    },
    # --- C09 三仁畲乡花草茶 ------------------------------------------------------------------
    {
        "sku": "SC-TE-010", "coop": "C09", "category": "tea",
        "name_zh": "遂昌菊米", "name_en": "Suichang chrysanthemum rice",
        "description_zh": (
            "采摘尚未开放、米粒大小的菊花花蕾杀青烘干，冲泡后花蕾慢慢舒展，清香微苦回甘。"
        ),
        "description_en": (
            "Rice-sized chrysanthemum buds picked before they open, then fixed and dried; they "
            "unfold slowly in the cup, fragrant and faintly bitter with a sweet finish."
        ),
        "unit_zh": "罐(100克)", "unit_en": "tin (100 g)", "price_fen": 8800,
        "weight_g": 220, "volume_cm3": 1300, "shelf_life_days": 540,
        "certification_type": "geo_indication", "certification_no": "AGI01093",
        "handling": ["keep_dry", "odor_sensitive"], "featured": True, "origin_village": "V100",
    },
    {
        "sku": "SC-TE-011", "coop": "C09", "category": "tea",
        "name_zh": "菊花茶(杭白菊)", "name_en": "Chrysanthemum tea (Hangbaiju)",
        "description_zh": "整朵杭白菊蒸制晒干，泡水清热去火，可加枸杞或冰糖同饮。",
        "description_en": (
            "Whole Hangbaiju blossoms steamed and sun-dried; a cooling infusion, nice with goji "
            "or rock sugar."
        ),
        "unit_zh": "罐(60克)", "unit_en": "tin (60 g)", "price_fen": 3800,
        "weight_g": 160, "volume_cm3": 1500, "shelf_life_days": 540,
        "certification_type": "sc_licence", "certification_no": "SC11433112300372",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V098",
    },
    {
        "sku": "SC-TE-012", "coop": "C09", "category": "tea",
        "name_zh": "金银花茶", "name_en": "Honeysuckle tea",
        "description_zh": "初夏清晨采摘含苞的金银花，低温烘干保留花香，夏天泡一壶消暑解渴。",
        "description_en": (
            "Honeysuckle buds picked on early-summer mornings and dried at low heat to keep the "
            "scent; a pot of it beats the summer heat."
        ),
        "unit_zh": "罐(50克)", "unit_en": "tin (50 g)", "price_fen": 4800,
        "weight_g": 150, "volume_cm3": 1300, "shelf_life_days": 540,
        "certification_type": "sc_licence", "certification_no": "SC11433112300372",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V099",
    },
    {
        "sku": "SC-TE-013", "coop": "C09", "category": "tea",
        "name_zh": "玫瑰花茶", "name_en": "Rose bud tea",
        "description_zh": "重瓣玫瑰花苞低温烘干，花香浓郁、色泽紫红，可单泡也可搭配红茶。",
        "description_en": (
            "Double-petal rose buds dried at low heat, deep red-purple and intensely fragrant; "
            "brew alone or with black tea."
        ),
        "unit_zh": "罐(50克)", "unit_en": "tin (50 g)", "price_fen": 4200,
        "weight_g": 150, "volume_cm3": 1300, "shelf_life_days": 540,
        "certification_type": "sc_licence", "certification_no": "SC11433112300372",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V100",
    },
    {
        "sku": "SC-TE-014", "coop": "C09", "category": "tea",
        "name_zh": "桂花茶", "name_en": "Osmanthus flower tea",
        "description_zh": "中秋前后收集的金桂鲜花，去梗阴干，泡水、做桂花糖藕或酒酿圆子都香。",
        "description_en": (
            "Golden osmanthus gathered around Mid-Autumn, de-stemmed and shade-dried; for tea, "
            "sweet lotus root or fermented-rice dumplings."
        ),
        "unit_zh": "罐(100克)", "unit_en": "tin (100 g)", "price_fen": 5600,
        "weight_g": 200, "volume_cm3": 1500, "shelf_life_days": 540,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V101",
    },
    # --- C10 龙洋土蜂蜜与果脯 ----------------------------------------------------------------
    {
        "sku": "SC-HP-001", "coop": "C10", "category": "honey-and-preserves",
        "name_zh": "中华蜂土蜂蜜(百花蜜)", "name_en": "Native bee wildflower honey",
        "description_zh": (
            "中华蜜蜂采集山里百花酿成，一年只摇一次成熟蜜，浓稠易结晶，结晶是天然现象。"
        ),
        "description_en": (
            "Made by Chinese honeybees from mountain wildflowers and extracted ripe only once a "
            "year; thick and quick to crystallise, which is natural."
        ),
        "unit_zh": "瓶(500克)", "unit_en": "jar (500 g)", "price_fen": 9800,
        "weight_g": 820, "volume_cm3": 1200, "shelf_life_days": 730,
        "certification_type": "sc_licence", "certification_no": "SC12633112300147",
        "handling": ["liquid", "fragile"], "featured": True, "origin_village": "V082",
    },
    {
        "sku": "SC-HP-002", "coop": "C10", "category": "honey-and-preserves",
        "name_zh": "山乌桕蜂蜜", "name_en": "Mountain tallow-tree honey",
        "description_zh": "夏季山乌桕花期采集，颜色浅琥珀、甜而不腻，带淡淡的花果香。",
        "description_en": (
            "Gathered while the mountain tallow trees flower in summer; light amber, sweet but "
            "not cloying, with a faint fruity note."
        ),
        "unit_zh": "瓶(500克)", "unit_en": "jar (500 g)", "price_fen": 8800,
        "weight_g": 820, "volume_cm3": 1200, "shelf_life_days": 730,
        "certification_type": "sc_licence", "certification_no": "SC12633112300147",
        "handling": ["liquid", "fragile"], "featured": False, "origin_village": "V083",
    },
    {
        "sku": "SC-HP-003", "coop": "C10", "category": "honey-and-preserves",
        "name_zh": "土蜂蜜礼盒", "name_en": "Native honey gift box",
        "description_zh": "百花蜜与山乌桕蜜各一瓶，配木质蜂蜜勺，送给长辈的健康好礼。",
        "description_en": (
            "A jar each of wildflower and tallow-tree honey with a wooden dipper; a wholesome "
            "gift for elders."
        ),
        "unit_zh": "盒(2×500克)", "unit_en": "box (2 × 500 g)", "price_fen": 18800,
        "weight_g": 1900, "volume_cm3": 4200, "shelf_life_days": 730,
        "certification_type": "sc_licence", "certification_no": "SC12633112300147",
        "handling": ["liquid", "fragile"], "featured": False, "origin_village": "V082",
    },
    {
        "sku": "SC-HP-004", "coop": "C10", "category": "honey-and-preserves",
        "name_zh": "杨梅干", "name_en": "Dried Chinese bayberries",
        "description_zh": "六月山杨梅少糖腌渍后烘干，酸甜开胃，饭后来几颗解腻。",
        "description_en": (
            "June mountain bayberries lightly sugared and dried; sweet-sour and appetising, a "
            "few after a rich meal."
        ),
        "unit_zh": "袋(250克)", "unit_en": "bag (250 g)", "price_fen": 3500,
        "weight_g": 280, "volume_cm3": 1500, "shelf_life_days": 270,
        "certification_type": "sc_licence", "certification_no": "SC11733112300284",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V084",
    },
    {
        "sku": "SC-HP-005", "coop": "C10", "category": "honey-and-preserves",
        "name_zh": "红心猕猴桃干", "name_en": "Dried red-heart kiwifruit",
        "description_zh": "本地红心猕猴桃切片低温烘干，保留果香和籽粒口感，老人孩子都爱吃。",
        "description_en": (
            "Local red-heart kiwifruit sliced and dried at low temperature, keeping the aroma "
            "and the crunch of the seeds; loved by young and old."
        ),
        "unit_zh": "袋(250克)", "unit_en": "bag (250 g)", "price_fen": 3900,
        "weight_g": 280, "volume_cm3": 1600, "shelf_life_days": 270,
        "certification_type": "sc_licence", "certification_no": "SC11733112300284",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V085",
    },
    {
        "sku": "SC-HP-006", "coop": "C10", "category": "honey-and-preserves",
        "name_zh": "农家柿饼", "name_en": "Farmhouse dried persimmons",
        "description_zh": "霜降后削皮挂晒的老柿子，表面起一层白霜，软糯流心，冷藏后更好吃。",
        "description_en": (
            "Old-variety persimmons peeled and hung to dry after the first frost until a white "
            "sugar bloom forms; soft-centred, best chilled."
        ),
        "unit_zh": "袋(500克)", "unit_en": "bag (500 g)", "price_fen": 4200,
        "weight_g": 560, "volume_cm3": 2500, "shelf_life_days": 120,
        "certification_type": "none", "certification_no": "",
        "handling": ["fragile"], "featured": False, "origin_village": "V082",
    },
    # --- C11 柘岱口油茶与梯田米 --------------------------------------------------------------
    {
        "sku": "SC-GO-001", "coop": "C11", "category": "grains-and-oils",
        "name_zh": "高山冷榨山茶油", "name_en": "Cold-pressed mountain camellia oil",
        "description_zh": (
            "霜降后采摘的油茶籽晒干去壳，低温物理压榨、自然沉淀过滤，油色金黄清亮，适合凉拌和月子餐。"
        ),
        "description_en": (
            "Camellia seeds picked after the first frost, dried, shelled, cold-pressed and left "
            "to settle; a clear golden oil for dressings and postpartum dishes."
        ),
        "unit_zh": "瓶(500毫升)", "unit_en": "bottle (500 ml)", "price_fen": 12800,
        "weight_g": 900, "volume_cm3": 1500, "shelf_life_days": 540,
        "certification_type": "green_food", "certification_no": "LB-07-22101102187A",
        "handling": ["liquid", "fragile"], "featured": True, "origin_village": "V086",
    },
    {
        "sku": "SC-GO-002", "coop": "C11", "category": "grains-and-oils",
        "name_zh": "山茶油(家庭装)", "name_en": "Camellia oil, family size",
        "description_zh": "与冷榨茶油同批原料，食品级铁桶装，日常炒菜用量大的家庭更划算。",
        "description_en": (
            "The same seed as the cold-pressed oil in a food-grade tin; better value for "
            "households that cook with it every day."
        ),
        "unit_zh": "桶(2.5升)", "unit_en": "tin (2.5 L)", "price_fen": 49800,
        "weight_g": 2700, "volume_cm3": 4200, "shelf_life_days": 540,
        "certification_type": "green_food", "certification_no": "LB-07-22101102187A",
        "handling": ["liquid", "heavy"], "featured": False, "origin_village": "V086",
    },
    {
        "sku": "SC-GO-003", "coop": "C11", "category": "grains-and-oils",
        "name_zh": "山茶油礼盒", "name_en": "Camellia oil gift box",
        "description_zh": "两瓶 750 毫升冷榨山茶油，手提礼盒装，是遂昌人春节送礼的硬通货。",
        "description_en": (
            "Two 750 ml bottles of cold-pressed camellia oil in a carry box; the classic Suichang "
            "Spring Festival gift."
        ),
        "unit_zh": "盒(2×750毫升)", "unit_en": "box (2 × 750 ml)", "price_fen": 36800,
        "weight_g": 3300, "volume_cm3": 6500, "shelf_life_days": 540,
        "certification_type": "green_food", "certification_no": "LB-07-22101102187A",
        "handling": ["liquid", "fragile", "heavy"], "featured": False, "origin_village": "V087",
    },
    {
        "sku": "SC-GO-004", "coop": "C11", "category": "grains-and-oils",
        "name_zh": "高山梯田米", "name_en": "Mountain terrace rice",
        "description_zh": "海拔 600 米梯田一年一季种植，山泉水灌溉，米粒饱满、煮饭有米油香。",
        "description_en": (
            "One crop a year on spring-fed terraces at 600 m; plump grains that cook with a "
            "glossy, fragrant surface."
        ),
        "unit_zh": "袋(5千克)", "unit_en": "bag (5 kg)", "price_fen": 9800,
        "weight_g": 5100, "volume_cm3": 7500, "shelf_life_days": 365,
        "certification_type": "green_food", "certification_no": "LB-01-22091102096A",
        "handling": ["heavy", "keep_dry", "odor_sensitive"], "featured": False,
        "origin_village": "V089",
    },
    {
        "sku": "SC-GO-005", "coop": "C11", "category": "grains-and-oils",
        "name_zh": "高山红米", "name_en": "Mountain red rice",
        "description_zh": "老品种红米，糙米保留红色种皮，和白米一比三混煮，饭香有嚼劲。",
        "description_en": (
            "An heirloom red rice kept whole with its red bran; cook one part to three of white "
            "rice for a nutty, chewy bowl."
        ),
        "unit_zh": "袋(2.5千克)", "unit_en": "bag (2.5 kg)", "price_fen": 6800,
        "weight_g": 2600, "volume_cm3": 3800, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC10133112300193",
        "handling": ["keep_dry", "odor_sensitive"], "featured": False, "origin_village": "V088",
    },
    {
        "sku": "SC-GO-006", "coop": "C11", "category": "grains-and-oils",
        "name_zh": "土榨菜籽油", "name_en": "Traditional pressed rapeseed oil",
        "description_zh": "本地油菜籽炒籽后压榨，香味浓烈，炒青菜、做红烧菜特别香。",
        "description_en": (
            "Local rapeseed roasted and pressed the old way; intensely aromatic, superb for "
            "greens and red-braised dishes."
        ),
        "unit_zh": "桶(5升)", "unit_en": "drum (5 L)", "price_fen": 15800,
        "weight_g": 4900, "volume_cm3": 7000, "shelf_life_days": 365,
        "certification_type": "sc_licence", "certification_no": "SC10233112300075",
        "handling": ["liquid", "heavy"], "featured": False, "origin_village": "V086",
    },
    # --- C12 应村农家手作 (pending) ----------------------------------------------------------
    {
        "sku": "SC-OL-001", "coop": "C12", "category": "other-local",
        "name_zh": "遂昌长粽", "name_en": "Suichang long zongzi",
        "description_zh": (
            "遂昌特有的长条形粽子，一根长约 30 厘米，箬叶包裹糯米和咸肉，真空冷冻保存，蒸热即食。"
        ),
        "description_en": (
            "Suichang's own long rice dumplings, about 30 cm each: glutinous rice and cured pork "
            "wrapped in bamboo leaves, vacuum-packed and frozen. Steam and eat."
        ),
        "unit_zh": "袋(4根×300克)", "unit_en": "bag (4 × 300 g)", "price_fen": 5800,
        "weight_g": 1300, "volume_cm3": 4500, "shelf_life_days": 180,
        "certification_type": "sc_licence", "certification_no": "SC11133112300416",
        "handling": ["cold_chain"], "featured": False, "origin_village": "V068",
    },
    {
        "sku": "SC-OL-002", "coop": "C12", "category": "other-local",
        "name_zh": "黄米粿", "name_en": "Yellow rice cake (huangmiguo)",
        "description_zh": "早米浸泡灰碱水后蒸熟舂打，色泽金黄、软韧弹牙，切片炒青菜或煮汤都好。",
        "description_en": (
            "Early rice soaked in plant-ash lye, steamed and pounded until golden and springy; "
            "slice and stir-fry with greens or add to soup."
        ),
        "unit_zh": "袋(1千克)", "unit_en": "bag (1 kg)", "price_fen": 3200,
        "weight_g": 1050, "volume_cm3": 1800, "shelf_life_days": 30,
        "certification_type": "none", "certification_no": "",
        "handling": ["cold_chain"], "featured": False, "origin_village": "V069",
    },
    {
        "sku": "SC-OL-003", "coop": "C12", "category": "other-local",
        "name_zh": "红糖麻糍", "name_en": "Brown sugar glutinous ciba",
        "description_zh": "糯米蒸熟后石臼捶打，裹上芝麻红糖粉，冷冻保存，加热后软糯拉丝。",
        "description_en": (
            "Glutinous rice pounded in a stone mortar and rolled in sesame and brown sugar; kept "
            "frozen, soft and stretchy when warmed."
        ),
        "unit_zh": "盒(10个)", "unit_en": "box (10 pieces)", "price_fen": 3600,
        "weight_g": 700, "volume_cm3": 2400, "shelf_life_days": 60,
        "certification_type": "none", "certification_no": "",
        "handling": ["cold_chain"], "featured": False, "origin_village": "V068",
    },
    {
        "sku": "SC-OL-004", "coop": "C12", "category": "other-local",
        "name_zh": "手编竹果篮", "name_en": "Hand-woven bamboo fruit basket",
        "description_zh": "用本地淡竹劈篾手工编织，结实耐用，可装水果、菜蔬或当收纳篮。",
        "description_en": (
            "Woven by hand from split local bamboo; sturdy enough for fruit, vegetables or "
            "household storage."
        ),
        "unit_zh": "个(直径30厘米)", "unit_en": "piece (30 cm across)", "price_fen": 8800,
        "weight_g": 650, "volume_cm3": 15000, "shelf_life_days": None,
        "certification_type": "none", "certification_no": "",
        "handling": ["keep_dry"], "featured": False, "origin_village": "V070",
    },
]

# ---------------------------------------------------------------------------------------------
# Vehicles: 5 per warehouse. Capacity in grams and cm³; shift times local (Asia/Shanghai).
# ---------------------------------------------------------------------------------------------
VEHICLES = [
    # W-MG 妙高中心仓
    {"plate": "浙K·D3A617", "warehouse": "W-MG", "kind": "van",
     "capacity_weight_g": 800000, "capacity_volume_cm3": 4500000, "speed_kmh": 55,
     "shift_start": "07:00", "shift_end": "19:00",
     "driver_name": "季伟强", "driver_mobile": "13857801642"},
    {"plate": "浙K·5T827", "warehouse": "W-MG", "kind": "van",
     "capacity_weight_g": 800000, "capacity_volume_cm3": 4500000, "speed_kmh": 55,
     "shift_start": "08:00", "shift_end": "20:00",
     "driver_name": "潘建平", "driver_mobile": "13967813075"},
    {"plate": "浙K·A2M36", "warehouse": "W-MG", "kind": "light_truck",
     "capacity_weight_g": 1500000, "capacity_volume_cm3": 9000000, "speed_kmh": 50,
     "shift_start": "06:30", "shift_end": "18:30",
     "driver_name": "吴金水", "driver_mobile": "15868825310"},
    {"plate": "浙K·D7C129", "warehouse": "W-MG", "kind": "minivan",
     "capacity_weight_g": 450000, "capacity_volume_cm3": 2600000, "speed_kmh": 60,
     "shift_start": "10:00", "shift_end": "22:00",
     "driver_name": "刘晓军", "driver_mobile": "18858873421"},
    {"plate": "浙K·L8E05", "warehouse": "W-MG", "kind": "cold_van",
     "capacity_weight_g": 600000, "capacity_volume_cm3": 3500000, "speed_kmh": 55,
     "shift_start": "07:30", "shift_end": "19:30",
     "driver_name": "徐国良", "driver_mobile": "13735977860"},
    # W-BJ 北界东北仓
    {"plate": "浙K·D2F358", "warehouse": "W-BJ", "kind": "van",
     "capacity_weight_g": 800000, "capacity_volume_cm3": 4500000, "speed_kmh": 50,
     "shift_start": "07:00", "shift_end": "19:00",
     "driver_name": "周土根", "driver_mobile": "13575916284"},
    {"plate": "浙K·6H193", "warehouse": "W-BJ", "kind": "van",
     "capacity_weight_g": 800000, "capacity_volume_cm3": 4500000, "speed_kmh": 50,
     "shift_start": "09:00", "shift_end": "21:00",
     "driver_name": "叶志勇", "driver_mobile": "15990811739"},
    {"plate": "浙K·B9N42", "warehouse": "W-BJ", "kind": "light_truck",
     "capacity_weight_g": 1500000, "capacity_volume_cm3": 9000000, "speed_kmh": 45,
     "shift_start": "06:30", "shift_end": "18:30",
     "driver_name": "蓝永福", "driver_mobile": "13819892560"},
    {"plate": "浙K·D5K870", "warehouse": "W-BJ", "kind": "minivan",
     "capacity_weight_g": 450000, "capacity_volume_cm3": 2600000, "speed_kmh": 55,
     "shift_start": "07:30", "shift_end": "19:30",
     "driver_name": "郑海波", "driver_mobile": "17858827316"},
    {"plate": "浙K·3P716", "warehouse": "W-BJ", "kind": "minivan",
     "capacity_weight_g": 450000, "capacity_volume_cm3": 2600000, "speed_kmh": 55,
     "shift_start": "10:00", "shift_end": "22:00",
     "driver_name": "毛俊杰", "driver_mobile": "18305789024"},
    # W-WCK 王村口西南仓 — mountain roads, slower
    {"plate": "浙K·D8G241", "warehouse": "W-WCK", "kind": "van",
     "capacity_weight_g": 800000, "capacity_volume_cm3": 4500000, "speed_kmh": 45,
     "shift_start": "07:00", "shift_end": "19:00",
     "driver_name": "雷观福", "driver_mobile": "13706784413"},
    {"plate": "浙K·C4R58", "warehouse": "W-WCK", "kind": "minivan",
     "capacity_weight_g": 450000, "capacity_volume_cm3": 2600000, "speed_kmh": 45,
     "shift_start": "07:00", "shift_end": "19:00",
     "driver_name": "华金有", "driver_mobile": "15957856182"},
    {"plate": "浙K·7U305", "warehouse": "W-WCK", "kind": "minivan",
     "capacity_weight_g": 450000, "capacity_volume_cm3": 2600000, "speed_kmh": 45,
     "shift_start": "10:00", "shift_end": "22:00",
     "driver_name": "钟小平", "driver_mobile": "19857803368"},
    {"plate": "浙K·E6W97", "warehouse": "W-WCK", "kind": "light_truck",
     "capacity_weight_g": 1500000, "capacity_volume_cm3": 9000000, "speed_kmh": 40,
     "shift_start": "06:30", "shift_end": "18:30",
     "driver_name": "黄国庆", "driver_mobile": "13567897521"},
    {"plate": "浙K·D1H662", "warehouse": "W-WCK", "kind": "cold_van",
     "capacity_weight_g": 600000, "capacity_volume_cm3": 3500000, "speed_kmh": 45,
     "shift_start": "08:00", "shift_end": "20:00",
     "driver_name": "罗建新", "driver_mobile": "18768817940"},
]

# ---------------------------------------------------------------------------------------------
# Demo logins. All use the same password; the other cooperative heads get accounts from the
# loader using their head_mobile.
# ---------------------------------------------------------------------------------------------
DEMO_ACCOUNTS = [
    {"mobile": "13957800001", "password": "shanhuo123", "role": "consumer",
     "name": "王晓丽", "cooperative": None},
    {"mobile": "13957800002", "password": "shanhuo123", "role": "consumer",
     "name": "陈志远", "cooperative": None},
    {"mobile": "13757801236", "password": "shanhuo123", "role": "coop_head",
     "name": "叶建国", "cooperative": "C01"},
    {"mobile": "13957800010", "password": "shanhuo123", "role": "dispatcher",
     "name": "李慧敏", "cooperative": None},
    {"mobile": "13957800020", "password": "shanhuo123", "role": "complaint_staff",
     "name": "杨静", "cooperative": None},
    {"mobile": "13957800099", "password": "shanhuo123", "role": "operator",
     "name": "赵文斌", "cooperative": None},
    {"mobile": "13857801642", "password": "shanhuo123", "role": "driver",
     "name": "季伟强", "cooperative": None},
]

# Names for generated historical customers.
CONSUMER_NAMES = [
    "王丽华", "李建军", "张秀英", "刘伟", "陈美玲", "杨志强", "黄晓东", "赵丽萍",
    "周国平", "吴春燕", "徐海军", "孙丽娟", "胡永康", "朱小红", "高建华", "林晓峰",
    "何玉兰", "郭志明", "罗红梅", "郑小燕", "梁国庆", "谢文静", "宋立新", "唐佳怡",
    "韩雪梅", "冯子豪", "邓淑芬", "曹俊杰", "彭丽君", "曾宇航", "叶金花", "毛卫东",
    "蓝春兰", "钟伟民", "雷秀珍", "季晓龙", "潘雨欣", "应国华", "翁丽芳", "施建新",
]

# Detail lines appended to a village or community name to form a delivery address.
ADDRESS_LINES = [
    "村口老街 12 号",
    "文化礼堂旁 3 号",
    "溪边路 27 号",
    "祠堂前 5 号",
    "老供销社对面 8 号",
    "村委会后 2 号",
    "樟树下 16 号",
    "新村路 41 号",
    "下街 9 号",
    "上街 33 号",
    "小学旁 6 号",
    "石拱桥东 11 号",
    "茶厂宿舍 2 幢 102 室",
    "竹林路 19 号",
    "卫生室隔壁 4 号",
    "农贸市场北侧 15 号",
    "后山弄 7 号",
    "水口庙旁 1 号",
    "晒谷场边 22 号",
    "老粮站 3 号楼 201 室",
    "公交站对面 10 号",
    "垄上 18 号",
    "新屋弄 5 号",
    "溪滩路 36 号",
    "竹炭厂边 13 号",
    "幸福路 52 号",
    "大樟树弄 4 号",
    "老屋厅堂 2 号",
    "健身广场旁 21 号",
    "南山脚 8 号",
]

# Guaranteed delivery windows. Compensation steps: [seconds late >=, coupon fen], capped.
WINDOW_CLASSES = [
    {
        "code": "2h",
        "hours": 2,
        "fee_fen": 1200,
        "name_zh": "2小时达",
        "name_en": "Within 2 h",
        "compensation": {"steps": [[0, 500], [1800, 1000], [3600, 2000]], "cap_fen": 3000},
    },
    {
        "code": "6h",
        "hours": 6,
        "fee_fen": 600,
        "name_zh": "6小时达",
        "name_en": "Within 6 h",
        "compensation": {"steps": [[0, 300], [3600, 800], [7200, 1500]], "cap_fen": 2000},
    },
    {
        "code": "12h",
        "hours": 12,
        "fee_fen": 300,
        "name_zh": "12小时达",
        "name_en": "Within 12 h",
        "compensation": {"steps": [[0, 200], [3600, 500], [10800, 1000]], "cap_fen": 1500},
    },
    {
        "code": "18h",
        "hours": 18,
        "fee_fen": 0,
        "name_zh": "18小时达",
        "name_en": "Within 18 h",
        "compensation": {"steps": [[0, 200], [7200, 500], [21600, 1000]], "cap_fen": 1000},
    },
]
